use anyhow::Result;

/// Print every adapter the environment exposes and the one shatter would choose.
pub fn run() -> Result<()> {
    // Opening the default adapter first gives the one-line "no adapter" error when there is none.
    let chosen = shatter_gpu::Gpu::new(None)?;
    for (i, adapter) in shatter_gpu::list_adapters().iter().enumerate() {
        println!(
            "{i}: {} (driver: {} {})",
            adapter.describe(),
            adapter.driver,
            adapter.driver_info
        );
    }
    println!("chosen: {}", chosen.adapter().describe());
    Ok(())
}
