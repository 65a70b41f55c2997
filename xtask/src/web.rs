//! `cargo xtask web`: build the page's WebAssembly and serve web/ on 127.0.0.1.

use anyhow::Result;
use clap::Args;
use xtask::wasm_tools::{build_page, workspace_root};

use crate::web_server::StaticServer;

#[derive(Args, Debug)]
pub struct WebArgs {
    /// The port to serve on (0: any free port; the address is printed).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Build web/pkg and stop, without serving.
    #[arg(long)]
    build_only: bool,
}

pub fn run(args: WebArgs) -> Result<()> {
    let root = workspace_root();
    // Bind first: a port in use is a one-line error before minutes of building.
    let server = (!args.build_only)
        .then(|| StaticServer::bind(&root.join("web"), args.port))
        .transpose()?;
    build_page(&root)?;
    if let Some(server) = server {
        println!(
            "serving {} (open it in a browser with WebGPU; Ctrl-C stops)",
            server.url()
        );
        server.serve()?;
    }
    Ok(())
}
