//! An OTLP/HTTP collector that answers 200 and discards: the far end of the `otlp` row.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

/// Starts the collector on a free port of 127.0.0.1 and returns the port.
pub fn start() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("port").port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn);
                let mut line = String::new();
                loop {
                    let mut len = 0u64;
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                    if std::io::copy(&mut (&mut reader).take(len), &mut std::io::sink()).is_err() {
                        return;
                    }
                    let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
                    if reader.get_mut().write_all(ok).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}
