use anyhow::Result;

pub fn run() -> Result<()> {
    let adapters = shatter_gpu::list_adapters();
    if adapters.is_empty() {
        // Same message as training would give.
        return Err(shatter_gpu::Gpu::new(None)
            .err()
            .map(anyhow::Error::from)
            .unwrap_or_else(|| anyhow::anyhow!("no adapter")));
    }
    for (i, adapter) in adapters.iter().enumerate() {
        println!(
            "{i}: {} (driver: {} {})",
            adapter.describe(),
            adapter.driver,
            adapter.driver_info
        );
    }
    let chosen = shatter_gpu::Gpu::new(None)?;
    println!("chosen: {}", chosen.adapter().describe());
    Ok(())
}
