//! The JavaScript face of [`Lab`] and [`WebRun`] (web/app.js uses it). Errors reach the
//! page as one-line strings: the chain of contexts, outermost first.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use crate::lab::{Lab as LabCore, RunRequest};
use crate::web_run::WebRun;

fn one_line(error: anyhow::Error) -> JsValue {
    JsValue::from_str(&format!("{error:#}"))
}

/// The page's device.
#[wasm_bindgen]
pub struct Lab {
    core: Rc<LabCore>,
}

#[wasm_bindgen]
impl Lab {
    /// Open the browser's WebGPU adapter; rejects with one line where there is none.
    pub async fn open() -> Result<Lab, JsValue> {
        let core = LabCore::open().await.map_err(one_line)?;
        Ok(Lab {
            core: Rc::new(core),
        })
    }

    pub fn adapter(&self) -> String {
        self.core.adapter()
    }

    pub fn limits(&self) -> String {
        self.core.limits()
    }

    /// A run of `model` on the first `images` training images under `setting`
    /// (a randomization as configs write it): a Promise of a [`Run`].
    pub fn prepare(
        &self,
        model: String,
        images: usize,
        setting: String,
        seed: u32,
        batch: usize,
        lr: f64,
    ) -> js_sys::Promise {
        let core = self.core.clone();
        let request = RunRequest {
            model,
            images,
            setting,
            seed: seed.into(),
            batch,
            lr,
        };
        wasm_bindgen_futures::future_to_promise(async move {
            let run = core.prepare(&request).await.map_err(one_line)?;
            Ok(Run {
                run: Rc::new(RefCell::new(Some(run))),
            }
            .into())
        })
    }

    /// The show-data picture of `setting` (see [`LabCore::preview`]).
    pub fn preview(
        &self,
        setting: &str,
        columns: u32,
        rows: u32,
        seed: u32,
    ) -> Result<Preview, JsValue> {
        let picture = self
            .core
            .preview(setting, columns, rows, seed.into())
            .map_err(one_line)?;
        Ok(Preview {
            width: picture.width,
            height: picture.height,
            rgba: picture.rgba,
        })
    }
}

/// An RGBA picture for a canvas's ImageData.
#[wasm_bindgen]
pub struct Preview {
    #[wasm_bindgen(readonly)]
    pub width: u32,
    #[wasm_bindgen(readonly)]
    pub height: u32,
    rgba: Vec<u8>,
}

#[wasm_bindgen]
impl Preview {
    #[wasm_bindgen(getter)]
    pub fn rgba(&self) -> Vec<u8> {
        self.rgba.clone()
    }
}

/// One run of the page. While an epoch trains, the run is out of its cell (the Promise
/// holds it), so a second call in the meantime is refused instead of interleaved.
#[wasm_bindgen]
pub struct Run {
    run: Rc<RefCell<Option<WebRun>>>,
}

impl Run {
    fn with<T>(&self, read: impl FnOnce(&WebRun) -> T) -> Result<T, JsValue> {
        self.run.borrow().as_ref().map(read).ok_or_else(busy)
    }
}

fn busy() -> JsValue {
    JsValue::from_str("this run is training an epoch; wait for it to finish")
}

#[wasm_bindgen]
impl Run {
    pub fn train_images(&self) -> Result<usize, JsValue> {
        self.with(WebRun::train_images)
    }

    pub fn test_images(&self) -> Result<usize, JsValue> {
        self.with(WebRun::test_images)
    }

    pub fn steps_per_epoch(&self) -> Result<usize, JsValue> {
        self.with(WebRun::steps_per_epoch)
    }

    /// Train and evaluate one epoch: a Promise of its [`crate::EpochSummary`] as JSON.
    pub fn epoch(&self) -> js_sys::Promise {
        let run = self.run.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let mut training = run.borrow_mut().take().ok_or_else(busy)?;
            let summary = training.epoch().await;
            *run.borrow_mut() = Some(training);
            let summary = summary.map_err(one_line)?;
            let json = serde_json::to_string(&summary).map_err(|e| one_line(e.into()))?;
            Ok(JsValue::from_str(&json))
        })
    }
}
