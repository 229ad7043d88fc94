//! syslog (RFC 5424) against rsyslog's imudp and imtcp, and a unix datagram socket.

use super::*;

fn rsyslogd() -> Option<PathBuf> {
    ["/usr/sbin/rsyslogd", "/sbin/rsyslogd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

pub(crate) fn syslog_udp_and_tcp_reach_rsyslog() {
    let name = "syslog_udp_and_tcp_reach_rsyslog";
    let Some(rsyslogd) = rsyslogd() else {
        return skip(name, "rsyslogd is not installed (apt-get install rsyslog)");
    };
    let dir = tempfile::tempdir().unwrap();
    let (udp, tcp) = (free_port(), free_port());
    let out = dir.path().join("out.log");
    let conf = dir.path().join("rsyslog.conf");
    std::fs::write(
        &conf,
        format!(
            r#"global(workDirectory="{d}")
module(load="imudp")
module(load="imtcp")
input(type="imudp" address="127.0.0.1" port="{udp}")
input(type="imtcp" address="127.0.0.1" port="{tcp}")
template(name="t" type="string" string="%syslogseverity%|%app-name%|%procid%|%msgid%|%structured-data%|%msg%\n")
*.* action(type="omfile" file="{out}" template="t")
"#,
            d = dir.path().display(),
            out = out.display()
        ),
    )
    .unwrap();
    let child = Command::new(rsyslogd)
        .arg("-n")
        .arg("-f")
        .arg(&conf)
        .arg("-i")
        .arg(dir.path().join("pid"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(child) = child else {
        return skip(name, "rsyslogd cannot start");
    };
    let _server = Server { child };
    if !wait_for_tcp(tcp, Duration::from_secs(10)) {
        return skip(name, "rsyslogd did not listen");
    }
    // UDP has no connection to wait for: give imudp a moment after imtcp is up.
    std::thread::sleep(Duration::from_millis(300));
    for (proto, port, app) in [("udp", udp, "svc-udp"), ("tcp", tcp, "svc-tcp")] {
        let mut cmd = child_command("requests");
        cmd.env("PRODLOG_SYSLOG", format!("{proto}://127.0.0.1:{port}"))
            .env("PRODLOG_SYSLOG_LEVEL", "info")
            .env("PRODLOG_CONSOLE", "off")
            .env("PRODLOG_APP", app)
            .env("RUST_LOG", "debug")
            .env("N", "5");
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{o:?}");
        let deadline = Instant::now() + Duration::from_secs(10);
        let lines = loop {
            let text = std::fs::read_to_string(&out).unwrap_or_default();
            let lines: Vec<String> = text
                .lines()
                .filter(|l| l.contains(&format!("|{app}|")))
                .map(str::to_owned)
                .collect();
            if lines.len() >= 15 || Instant::now() > deadline {
                break lines;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        // 5 requests x info, warn, error (debug is under the syslog level).
        assert_eq!(lines.len(), 15, "{proto}: {lines:#?}");
        let text = lines.join("\n");
        for secret in [SECRET_PW, SECRET_KEY, SECRET_TOKEN] {
            assert!(
                !text.contains(secret),
                "{proto}: {secret} reached syslog: {text}"
            );
        }
        let info = lines.iter().find(|l| l.contains("login ok")).unwrap();
        let parts: Vec<&str> = info.splitn(6, '|').collect();
        assert_eq!(parts[0], "6", "{info}");
        assert_eq!(parts[3], "network", "{info}");
        assert!(parts[4].starts_with("[prodlog@32473 "), "{info}");
        assert!(
            parts[4].contains("request_id=\"req-0\"") && parts[4].contains("user_id=\"42\""),
            "{info}"
        );
        // RFC 5424 escapes `]` inside a PARAM-VALUE.
        assert!(parts[4].contains(r#"password="[REDACTED\]""#), "{info}");
        let error = lines.iter().find(|l| l.starts_with("3|")).unwrap();
        // The newline and the escape code stay inside one syslog line.
        assert!(error.contains("line one\\nline two"), "{error}");
        assert!(!error.contains('\u{1b}'), "{error}");
        println!("  {proto}: {} messages in rsyslog's file", lines.len());
    }
}

pub(crate) fn syslog_unix_socket_gets_one_rfc5424_datagram_per_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut cmd = child_command("requests");
    cmd.env("PRODLOG_SYSLOG", format!("unix://{}", path.display()))
        .env("PRODLOG_SYSLOG_LEVEL", "warn")
        .env("PRODLOG_CONSOLE", "off")
        .env("PRODLOG_APP", "svc")
        .env("RUST_LOG", "info")
        .env("N", "3");
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{o:?}");
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65536];
    while got.len() < 6 {
        let n = sock.recv(&mut buf).expect("a datagram");
        got.push(String::from_utf8(buf[..n].to_vec()).unwrap());
    }
    // warn and error of 3 requests; the info line is under the syslog level.
    assert!(
        got.iter()
            .all(|m| m.starts_with("<12>1 ") || m.starts_with("<11>1 ")),
        "{got:#?}"
    );
    assert!(
        got.iter()
            .all(|m| !m.contains('\n') && !m.contains(SECRET_TOKEN)),
        "{got:#?}"
    );
    assert!(
        got.iter()
            .any(|m| m.contains(" svc ") && m.contains("request_id=\"req-2\"")),
        "{got:#?}"
    );
}

/// A syslog server over TCP that accepts and then stops reading: the socket buffers fill,
/// the queue fills, callers never block, and once the process is gone the server reads
/// what reached it. Every line is in exactly one count, and `sent` is exactly the frames
/// the server got whole.
pub(crate) fn syslog_tcp_server_that_stops_reading() {
    use std::io::Read as _;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (conns_tx, conns_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            if conns_tx.send(conn).is_err() {
                return;
            }
        }
    });
    let n = 60_000u64;
    let out = child_command("flood_then_shutdown")
        .env("PRODLOG_SYSLOG", format!("tcp://127.0.0.1:{port}"))
        .env("PRODLOG_CONSOLE", "off")
        .env("RUST_LOG", "info")
        .env("N", n.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats = stdout
        .lines()
        .find(|l| l.starts_with("STATS syslog"))
        .expect("stats")
        .to_owned();
    let count = |key: &str| -> u64 {
        stats
            .split_whitespace()
            .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
            .unwrap()
            .parse()
            .unwrap()
    };
    let (sent, dropped, rejected) = (count("sent"), count("dropped"), count("rejected"));
    // The child has ended: read every connection it made to its end.
    let mut frames = 0u64;
    while let Ok(mut conn) = conns_rx.recv_timeout(Duration::from_millis(500)) {
        let mut data = Vec::new();
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let _ = conn.read_to_end(&mut data);
        // RFC 6587 octet counting: `LEN SP MSG`; a frame cut short is not one.
        let mut at = 0;
        while let Some(sp) = data[at..].iter().position(|&b| b == b' ') {
            let Ok(len) = std::str::from_utf8(&data[at..at + sp])
                .unwrap()
                .parse::<usize>()
            else {
                break;
            };
            let end = at + sp + 1 + len;
            if end > data.len() {
                break;
            }
            if data[at + sp + 1..end]
                .windows(10)
                .any(|w| w == b"flood line")
            {
                frames += 1;
            }
            at = end;
        }
    }
    assert!(dropped > 0, "the stalled server filled the queue: {stats}");
    assert_eq!(
        sent + dropped + rejected,
        n,
        "each line counted once: {stats}"
    );
    assert_eq!(frames, sent, "sent is what the server got whole: {stats}");
    println!("  ({stats}; {frames} frames received)");
}
