//! The answer shapes a real HTTP/1.1 server sends, from a server on 127.0.0.1.
use super::*;
use std::net::TcpListener;

/// A server that answers each request on one connection with the next of `answers`,
/// and returns how many requests it read.
fn serve(answers: Vec<&'static [u8]>) -> (u16, std::thread::JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut out = stream;
        let mut requests = 0;
        for answer in answers {
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 {
                    return requests;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            requests += 1;
            out.write_all(answer).unwrap();
        }
        requests
    });
    (port, handle)
}

fn client(port: u16) -> Client {
    let url = Url::parse(&format!("http://127.0.0.1:{port}/v1/logs")).unwrap();
    Client::new(url, &[], Duration::from_secs(5), None)
}

#[test]
fn trailers_and_interim_answers_keep_the_connection_in_step() {
    let (port, server) = serve(vec![
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Trailer: 1\r\nX-Other: 2\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 102 Processing\r\nX-A: 1\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
        // Latin-1 in a header and a binary body: not UTF-8, still an answer.
        b"HTTP/1.1 200 OK\r\nX-Server: caf\xe9\r\nContent-Length: 4\r\n\r\n\xff\xfeok",
    ]);
    let mut c = client(port);
    for _ in 0..3 {
        c.post("application/x-protobuf", None, b"body").unwrap();
    }
    drop(c);
    assert_eq!(
        server.join().unwrap(),
        3,
        "each body sent once, on one connection"
    );
}

#[test]
fn redirects_are_refused_not_followed() {
    let (port, server) = serve(vec![
        b"HTTP/1.1 301 Moved Permanently\r\nLocation: http://elsewhere/\r\nContent-Length: 0\r\n\r\n",
    ]);
    let e = client(port)
        .post("application/x-protobuf", None, b"body")
        .unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}");
    assert_eq!(server.join().unwrap(), 1);
}
