//! The journald destination against systemd-journald run standalone.

use super::*;

fn journald_socket_alive(path: &Path) -> bool {
    let s = std::os::unix::net::UnixDatagram::unbound().unwrap();
    s.connect(path).is_ok()
}

pub(crate) fn journald_entries_with_fields_and_a_large_entry() {
    let name = "journald_entries_with_fields_and_a_large_entry";
    let socket = Path::new(prodlog::ship::JOURNALD_SOCKET);
    let mut server = None;
    if !journald_socket_alive(socket) {
        let bin = Path::new("/lib/systemd/systemd-journald");
        if !bin.exists() {
            return skip(
                name,
                "systemd-journald is not installed (apt-get install systemd)",
            );
        }
        let child = Command::new(bin)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(child) = child else {
            return skip(name, "systemd-journald cannot start");
        };
        server = Some(Server { child });
        let deadline = Instant::now() + Duration::from_secs(10);
        while !journald_socket_alive(socket) {
            if Instant::now() > deadline {
                return skip(
                    name,
                    "systemd-journald did not create its socket (not root?)",
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let app = format!("prodlog-test-{}", std::process::id());
    let mut cmd = child_command("requests");
    cmd.env("PRODLOG_JOURNALD", "on")
        .env("PRODLOG_CONSOLE", "off")
        .env("PRODLOG_APP", &app)
        .env("RUST_LOG", "info")
        .env("N", "2");
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{o:?}");
    let mut big = child_command("big");
    big.env("PRODLOG_JOURNALD", "on")
        .env("PRODLOG_CONSOLE", "off")
        .env("PRODLOG_APP", &app);
    let o = big.output().unwrap();
    assert!(o.status.success(), "{o:?}");
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut polls = 0u32;
    let entries = loop {
        // The standalone journald writes to /run/log/journal; a host's own journald may
        // keep its journal elsewhere (/var/log/journal): ask it as well, the system journal.
        let mut cmd = Command::new("journalctl");
        cmd.args(["-o", "json", "--all", "--no-pager"]);
        if server.is_some() || polls.is_multiple_of(2) {
            cmd.args(["-D", "/run/log/journal"]);
        }
        polls += 1;
        let out = cmd.arg(format!("SYSLOG_IDENTIFIER={app}")).output();
        let entries: Vec<Value> = match out {
            Ok(o) => String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect(),
            Err(e) => return skip(name, &format!("journalctl cannot run: {e}")),
        };
        if entries.len() >= 10 || Instant::now() > deadline {
            break entries;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    // 2 requests x info, warn, error, each request's DEBUG line (written by the flight
    // recorder: the request logged an ERROR), and the 2 lines of `big`.
    assert_eq!(entries.len(), 10, "{entries:#?}");
    let text = serde_json::to_string(&entries).unwrap();
    for secret in [SECRET_PW, SECRET_KEY, SECRET_TOKEN] {
        assert!(!text.contains(secret), "{secret} reached journald");
    }
    let login = entries
        .iter()
        .find(|e| {
            e["MESSAGE"]
                .as_str()
                .is_some_and(|m| m.starts_with("login ok"))
        })
        .unwrap();
    assert_eq!(login["PRIORITY"], "6");
    assert_eq!(login["REQUEST_ID"], "req-0");
    assert_eq!(login["USER_ID"], "42");
    assert_eq!(login["PASSWORD"], "[REDACTED]");
    assert_eq!(login["TARGET"], "network");
    assert!(
        login["CODE_FILE"].as_str().unwrap().ends_with("main.rs"),
        "saw {:?}",
        &login["CODE_FILE"]
    );
    assert!(
        login["CODE_LINE"].as_str().unwrap().parse::<u32>().is_ok(),
        "saw {:?}",
        &login["CODE_LINE"]
    );
    let error = entries.iter().find(|e| e["PRIORITY"] == "3").unwrap();
    // A value with a newline travels in the binary form and arrives whole.
    let msg = error["MESSAGE"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| {
            // journalctl prints non-printable values as byte arrays.
            let bytes: Vec<u8> = error["MESSAGE"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b.as_u64().unwrap() as u8)
                .collect();
            String::from_utf8_lossy(&bytes).into_owned()
        });
    assert!(msg.starts_with("line one\nline two"), "{msg:?}");
    // The 300 KiB entry went through a memfd and arrived whole.
    let big = entries
        .iter()
        .find(|e| e["SIZE"] == "307200")
        .expect("the large entry");
    let len = big["MESSAGE"].as_str().map(str::len).unwrap_or(0);
    assert_eq!(len, 300 * 1024, "large entry cut");
    assert!(
        entries.iter().any(|e| e["MESSAGE"] == "after the big one"),
        "saw {:?}",
        &entries
    );
    println!("  {} entries in the journal", entries.len());
}

/// journald's socket appears after `init()`: the lines logged before are delivered once it
/// is there, none dropped (the queue held them), and nothing blocked meanwhile.
pub(crate) fn journald_socket_that_appears_later() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("socket");
    let mut child = child_command("requests")
        .env("PRODLOG_JOURNALD", "on")
        .env("PRODLOG_JOURNALD_SOCKET", &socket)
        .env("PRODLOG_CONSOLE", "off")
        .env("RUST_LOG", "info")
        .env("N", "20")
        .env("PAUSE_MS", "100")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The socket is bound half a second in; the child logs for two seconds.
    std::thread::sleep(Duration::from_millis(500));
    let server = std::os::unix::net::UnixDatagram::bind(&socket).unwrap();
    server
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut got = 0;
    let mut buf = vec![0u8; 1 << 16];
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match server.recv(&mut buf) {
            Ok(n) => {
                // `MESSAGE=` or, for a value with a newline, the binary `MESSAGE\n<len>`.
                if buf[..n]
                    .windows(8)
                    .any(|w| w == b"MESSAGE=" || w == b"MESSAGE\n")
                {
                    got += 1;
                }
            }
            Err(_) if matches!(child.try_wait(), Ok(Some(_))) => break,
            Err(_) => {}
        }
        assert!(Instant::now() < deadline, "the child hung");
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let stats = stdout
        .lines()
        .find(|l| l.starts_with("STATS journald"))
        .expect("stats");
    // 20 requests, 3 events each at info, and the DEBUG one of each: every request logs an
    // ERROR, so the flight recorder writes its DEBUG line when it closes.
    assert!(
        stats.contains("sent=80") && stats.contains("dropped=0"),
        "{stats}"
    );
    assert_eq!(got, 80, "{stats}");
}
