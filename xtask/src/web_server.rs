//! A static file server for the page on 127.0.0.1: what `cargo xtask web` serves web/
//! with. Browsers load ES modules and WebAssembly only with the right MIME types
//! (`application/wasm` for `WebAssembly.instantiateStreaming`), which is why a plain
//! file:// page cannot run shatter.

use std::path::{Component, Path, PathBuf};

use anyhow::Result;

use crate::BadInput;

/// A server bound to its port, not yet answering.
pub struct StaticServer {
    server: tiny_http::Server,
    root: PathBuf,
}

impl StaticServer {
    /// Bind 127.0.0.1:`port` (0: any free port) to serve the files under `root`.
    pub fn bind(root: &Path, port: u16) -> Result<Self> {
        let server = tiny_http::Server::http(("127.0.0.1", port)).map_err(|e| {
            BadInput(format!(
                "--port {port}: cannot listen on 127.0.0.1:{port} ({e}); choose another port"
            ))
        })?;
        Ok(Self {
            server,
            root: root.to_owned(),
        })
    }

    /// The address the page is at.
    pub fn url(&self) -> String {
        let port = self
            .server
            .server_addr()
            .to_ip()
            .map_or(0, |address| address.port());
        format!("http://127.0.0.1:{port}/")
    }

    /// Answer requests until the process ends.
    pub fn serve(self) -> Result<()> {
        for request in self.server.incoming_requests() {
            let (status, body, mime) = match resolve(&self.root, request.url()) {
                Some(path) => match std::fs::read(&path) {
                    Ok(bytes) => (200, bytes, mime_type(&path)),
                    Err(_) => (404, b"not found\n".to_vec(), "text/plain"),
                },
                None => (404, b"not found\n".to_vec(), "text/plain"),
            };
            let header =
                tiny_http::Header::from_bytes("Content-Type", mime).expect("a valid header");
            // Every response is fresh: a rebuilt .wasm must not meet a cached app.js.
            let no_cache =
                tiny_http::Header::from_bytes("Cache-Control", "no-store").expect("a valid header");
            let response = tiny_http::Response::from_data(body)
                .with_status_code(status)
                .with_header(header)
                .with_header(no_cache);
            // A browser that went away mid-response is no error of the server's.
            let _ = request.respond(response);
        }
        Ok(())
    }
}

/// The file a request's URL names under `root` (`/` is index.html), or None for a path
/// that leaves `root` or names no file.
fn resolve(root: &Path, url: &str) -> Option<PathBuf> {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    let relative = Path::new(path.trim_start_matches('/'));
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return None;
    }
    let full = root.join(relative);
    let full = if full.is_dir() {
        full.join("index.html")
    } else {
        full
    };
    full.is_file().then_some(full)
}

fn mime_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_stay_under_the_root_and_map_to_their_types() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("pkg")).unwrap();
        for file in ["index.html", "pkg/a.wasm", "pkg/a.js"] {
            std::fs::write(root.path().join(file), "x").unwrap();
        }
        let found = |url: &str| resolve(root.path(), url);
        assert_eq!(found("/"), Some(root.path().join("index.html")));
        assert_eq!(
            found("/?model=alexnet"),
            Some(root.path().join("index.html"))
        );
        assert_eq!(found("/pkg/a.wasm"), Some(root.path().join("pkg/a.wasm")));
        assert_eq!(found("/../Cargo.toml"), None);
        assert_eq!(found("/pkg/../../x"), None);
        assert_eq!(found("/missing.js"), None);
        assert_eq!(mime_type(Path::new("a.wasm")), "application/wasm");
        assert_eq!(
            mime_type(Path::new("pkg/a.js")),
            "text/javascript; charset=utf-8"
        );
    }
}
