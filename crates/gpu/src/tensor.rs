//! Tensors: named GPU storage buffers with a shape, and their readback.

use wgpu::util::DeviceExt;

use crate::device::Gpu;
use crate::error::GpuError;

const STORAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

/// A dense f32 array on the GPU, row-major in `shape`.
pub struct Tensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub buffer: wgpu::Buffer,
}

/// A u32 array on the GPU (labels, permutations, packed u8 pixels, counters).
pub struct U32Buffer {
    pub name: String,
    pub len: usize,
    pub buffer: wgpu::Buffer,
}

impl Tensor {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Another handle to the same GPU buffer, for a second owner that reads or writes it
    /// (a layer's lasting state listed beside the kernels that use it).
    pub fn alias(&self) -> Tensor {
        Tensor {
            name: self.name.clone(),
            shape: self.shape.clone(),
            buffer: self.buffer.clone(),
        }
    }
}

/// wgpu rejects zero-sized bindings; an empty tensor still gets one word.
fn byte_size(elements: usize) -> u64 {
    (elements.max(1) * 4) as u64
}

impl Gpu {
    fn checked_size(&self, name: &str, elements: usize) -> Result<u64, GpuError> {
        let bytes = byte_size(elements);
        let limits = self.limits();
        if bytes > limits.max_buffer_size || bytes > limits.max_storage_buffer_binding_size {
            return Err(GpuError::Limits(format!(
                "buffer '{name}' needs {bytes} bytes but adapter '{}' allows {} per buffer and {} per storage binding",
                self.adapter().name,
                limits.max_buffer_size,
                limits.max_storage_buffer_binding_size
            )));
        }
        Ok(bytes)
    }

    /// A zero-filled f32 tensor.
    pub fn zeros(&self, name: &str, shape: &[usize]) -> Result<Tensor, GpuError> {
        let elements = shape.iter().product();
        let size = self.checked_size(name, elements)?;
        self.count_allocation(size);
        let buffer = self.scoped(&format!("allocating '{name}'"), || {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(name),
                size,
                usage: STORAGE,
                mapped_at_creation: false,
            })
        })?;
        Ok(Tensor {
            name: name.to_owned(),
            shape: shape.to_vec(),
            buffer,
        })
    }

    /// An f32 tensor holding `values` (which must have the shape's element count).
    pub fn tensor(&self, name: &str, shape: &[usize], values: &[f32]) -> Result<Tensor, GpuError> {
        let elements: usize = shape.iter().product();
        assert_eq!(
            elements,
            values.len(),
            "tensor '{name}': shape {shape:?} does not match {} values",
            values.len()
        );
        let buffer = self.upload(name, bytemuck::cast_slice(values), elements)?;
        Ok(Tensor {
            name: name.to_owned(),
            shape: shape.to_vec(),
            buffer,
        })
    }

    /// A u32 buffer holding `values`.
    pub fn u32_buffer(&self, name: &str, values: &[u32]) -> Result<U32Buffer, GpuError> {
        let buffer = self.upload(name, bytemuck::cast_slice(values), values.len())?;
        Ok(U32Buffer {
            name: name.to_owned(),
            len: values.len(),
            buffer,
        })
    }

    fn upload(&self, name: &str, bytes: &[u8], elements: usize) -> Result<wgpu::Buffer, GpuError> {
        self.checked_size(name, elements)?;
        let padded;
        let contents = if bytes.is_empty() {
            padded = [0u8; 4];
            &padded[..]
        } else {
            bytes
        };
        self.count_allocation(contents.len() as u64);
        self.scoped(&format!("uploading '{name}'"), || {
            self.device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some(name),
                    contents,
                    usage: STORAGE,
                })
        })
    }

    /// A buffer holding one `T`, a kernel's parameters, written once at build time (bound
    /// as [`crate::BindingKind::Params`]).
    pub fn params<T: bytemuck::Pod>(&self, name: &str, value: &T) -> wgpu::Buffer {
        self.count_allocation(std::mem::size_of::<T>() as u64);
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(name),
                contents: bytemuck::bytes_of(value),
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            })
    }

    /// Overwrite a tensor's contents from the host (staged by the queue; no round trip).
    pub fn write_f32(&self, tensor: &Tensor, values: &[f32]) {
        assert_eq!(
            tensor.len(),
            values.len(),
            "write to '{}': length mismatch",
            tensor.name
        );
        if !values.is_empty() {
            self.queue
                .write_buffer(&tensor.buffer, 0, bytemuck::cast_slice(values));
        }
    }

    pub fn write_u32(&self, buffer: &U32Buffer, offset: usize, values: &[u32]) {
        assert!(
            offset + values.len() <= buffer.len.max(1),
            "write to '{}': out of range",
            buffer.name
        );
        if !values.is_empty() {
            self.queue.write_buffer(
                &buffer.buffer,
                (offset * 4) as u64,
                bytemuck::cast_slice(values),
            );
        }
    }

    /// Copy a tensor back to the host. Blocks until the GPU has finished all submitted work.
    pub fn read_f32(&self, tensor: &Tensor) -> Result<Vec<f32>, GpuError> {
        block_on_readback(self.read_f32_async(tensor))
    }

    pub fn read_u32(&self, buffer: &U32Buffer) -> Result<Vec<u32>, GpuError> {
        block_on_readback(self.read_u32_async(buffer))
    }

    /// [`Gpu::read_f32`] without blocking: what a browser must use.
    pub async fn read_f32_async(&self, tensor: &Tensor) -> Result<Vec<f32>, GpuError> {
        let bytes = self
            .read_bytes(&tensor.name, &tensor.buffer, tensor.len() * 4)
            .await?;
        Ok(bytemuck::cast_slice(&bytes).to_vec())
    }

    /// [`Gpu::read_u32`] without blocking.
    pub async fn read_u32_async(&self, buffer: &U32Buffer) -> Result<Vec<u32>, GpuError> {
        let bytes = self
            .read_bytes(&buffer.name, &buffer.buffer, buffer.len * 4)
            .await?;
        Ok(bytemuck::cast_slice(&bytes).to_vec())
    }

    async fn read_bytes(
        &self,
        name: &str,
        source: &wgpu::Buffer,
        len: usize,
    ) -> Result<Vec<u8>, GpuError> {
        self.read_back(name, len, |encoder, staging| {
            encoder.copy_buffer_to_buffer(source, 0, staging, 0, len as u64);
        })
        .await
    }

    /// `len` bytes that `copy` records into a mappable buffer, read back once the GPU is
    /// done.
    pub(crate) async fn read_back(
        &self,
        name: &str,
        len: usize,
        copy: impl FnOnce(&mut wgpu::CommandEncoder, &wgpu::Buffer),
    ) -> Result<Vec<u8>, GpuError> {
        if len == 0 {
            return Ok(Vec::new());
        }
        let staging = self.scoped(&format!("reading back '{name}'"), || {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("readback"),
                size: len as u64,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        })?;
        let mut encoder = self.device.create_command_encoder(&Default::default());
        copy(&mut encoder, &staging);
        self.submit(encoder.finish());
        let bytes = self
            .map_read(&staging, &format!("reading back '{name}'"), |view| {
                view.to_vec()
            })
            .await
            .map_err(|message| GpuError::Readback {
                name: name.to_owned(),
                message,
            })??;
        Ok(bytes)
    }

    /// Map `staging` for reading once the work submitted before is done, let `read` copy
    /// out of it, and unmap it. Natively this blocks in `wait`, which runs the map's
    /// callback; in a browser the callback comes from the event loop while this awaits.
    /// The outer error is the map's (as text), the inner one the device's.
    pub(crate) async fn map_read<T>(
        &self,
        staging: &wgpu::Buffer,
        context: &str,
        read: impl FnOnce(&[u8]) -> T,
    ) -> Result<Result<T, GpuError>, String> {
        let (sender, receiver) = futures_channel::oneshot::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |result| {
            let _ = sender.send(result);
        });
        if let Err(error) = self.wait(context) {
            return Ok(Err(error));
        }
        receiver
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let value = {
            let view = staging.get_mapped_range(..).map_err(|e| e.to_string())?;
            read(&view)
        };
        staging.unmap();
        Ok(self.check(context).map(|()| value))
    }
}

/// Run a readback to the end natively, where `wait` has already run the map's callback by
/// the time the future is first polled. A browser cannot block: there the sync reads say
/// so in one line, and callers use the async ones.
pub(crate) fn block_on_readback<T>(
    read: impl std::future::Future<Output = Result<T, GpuError>>,
) -> Result<T, GpuError> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        pollster::block_on(read)
    }
    #[cfg(target_arch = "wasm32")]
    {
        drop(read);
        Err(GpuError::Readback {
            name: "a blocking read".into(),
            message: "a browser cannot block on the GPU; use the async read".into(),
        })
    }
}
