//! A small real HTTP/1.1 static file server on 127.0.0.1 for the network tests: strong ETags,
//! `If-None-Match`, `Range: bytes=N-` with `If-Range`, handlers for POST requests (bodies read
//! by `Content-Length`), a log of every request, and scripted faults (an error status, a
//! dropped connection, a stall).

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a connection waits for the client before giving up: only a safety net so that no
/// thread outlives a broken test for long; the tests never depend on it.
const SOCKET_TIMEOUT: Duration = Duration::from_secs(30);

/// The most a request body may be.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// A scripted fault for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and an empty body (a POST handler does not run).
    Status(u16),
    /// Handle the request (a POST handler runs), send the response's headers (with the full
    /// `Content-Length`), then only the first `after` body bytes, then close the connection.
    Cut { after: usize },
    /// Read and handle the request (a POST handler runs) and never answer (until the server is
    /// dropped).
    Stall,
    /// Answer normally, but send the body one byte every `every_ms` milliseconds (until the
    /// server is dropped).
    Drip { every_ms: u64 },
    /// Answer normally with the whole body, but announce `extra` more bytes in
    /// `Content-Length` than it has, then close the connection.
    LongerLength { extra: usize },
}

/// What a POST handler answers.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

type Handler = Arc<dyn Fn(&Request) -> Response + Send + Sync>;

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Header names lowercased, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body (as many bytes as `Content-Length` said).
    pub body: Vec<u8>,
    /// The status answered; `None` for a stall.
    pub status: Option<u16>,
    /// When its head had arrived.
    pub at: std::time::Instant,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Inner {
    files: HashMap<String, Vec<u8>>,
    handlers: HashMap<String, Handler>,
    faults: HashMap<String, VecDeque<Fault>>,
    requests: Vec<Request>,
    stopped: bool,
}

#[derive(Default)]
struct Shared {
    inner: Mutex<Inner>,
    /// Notified when the server stops (wakes stalled connections).
    stop: Condvar,
}

/// The server; it stops when dropped.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binds to a local port");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let accepting = shared.clone();
        let accept = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if accepting.inner.lock().unwrap().stopped {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = accepting.clone();
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        Server {
            addr,
            shared,
            accept: Some(accept),
        }
    }

    /// The full address of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Serves `bytes` at `path` from now on.
    pub fn put(&self, path: &str, bytes: impl Into<Vec<u8>>) {
        let mut inner = self.shared.inner.lock().unwrap();
        inner.files.insert(path.to_owned(), bytes.into());
    }

    /// Answers POST requests for `path` with `handler` from now on.
    pub fn on_post(
        &self,
        path: &str,
        handler: impl Fn(&Request) -> Response + Send + Sync + 'static,
    ) {
        let mut inner = self.shared.inner.lock().unwrap();
        inner.handlers.insert(path.to_owned(), Arc::new(handler));
    }

    /// The next `times` requests for `path` meet `fault`, after any faults already scripted.
    pub fn fail(&self, path: &str, fault: Fault, times: usize) {
        let mut inner = self.shared.inner.lock().unwrap();
        let queue = inner.faults.entry(path.to_owned()).or_default();
        queue.extend(std::iter::repeat_n(fault, times));
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.inner.lock().unwrap().requests.clone()
    }

    /// The requests for `path` so far, oldest first.
    pub fn requests_for(&self, path: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// The strong ETag the server gives `bytes`.
    pub fn etag(bytes: &[u8]) -> String {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut hasher);
        format!("\"{:016x}-{:x}\"", hasher.finish(), bytes.len())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.inner.lock().unwrap().stopped = true;
        self.shared.stop.notify_all();
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// The head of a request: method, path and headers; `None` if the client sent none.
fn read_head(stream: &mut TcpStream) -> Option<(String, String, Vec<(String, String)>)> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
        if head.len() > 64 * 1024 {
            return None;
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let path = first.next()?.to_owned();
    let headers = lines
        .filter(|line| !line.is_empty())
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Some((method, path, headers))
}

/// The normal answer: status, extra headers, body.
fn respond(request: &Request, file: Option<&Vec<u8>>) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let Some(bytes) = file else {
        return (404, Vec::new(), b"not found\n".to_vec());
    };
    let etag = Server::etag(bytes);
    let mut headers = vec![("ETag".to_owned(), etag.clone())];
    if let Some(wanted) = request.header("if-none-match") {
        if wanted
            .split(',')
            .any(|t| t.trim() == etag || t.trim() == "*")
        {
            return (304, headers, Vec::new());
        }
    }
    let start = request
        .header("range")
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok());
    let if_range_holds = request.header("if-range").is_none_or(|t| t == etag);
    match start {
        Some(start) if if_range_holds && start < bytes.len() => {
            headers.push((
                "Content-Range".to_owned(),
                format!("bytes {start}-{}/{}", bytes.len() - 1, bytes.len()),
            ));
            (206, headers, bytes[start..].to_vec())
        }
        Some(_) if if_range_holds => {
            headers.push((
                "Content-Range".to_owned(),
                format!("bytes */{}", bytes.len()),
            ));
            (416, headers, Vec::new())
        }
        _ => (200, headers, bytes.clone()),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        206 => "Partial Content",
        304 => "Not Modified",
        400 => "Bad Request",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

fn serve(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(SOCKET_TIMEOUT));
    let _ = stream.set_write_timeout(Some(SOCKET_TIMEOUT));
    let Some((method, path, headers)) = read_head(&mut stream) else {
        return;
    };
    let length = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse::<usize>().ok())
        .unwrap_or(0);
    if length > MAX_BODY {
        return;
    }
    let mut body = vec![0u8; length];
    if stream.read_exact(&mut body).is_err() {
        return;
    }
    let mut request = Request {
        method,
        path,
        headers,
        body,
        status: None,
        at: std::time::Instant::now(),
    };
    let (fault, handler) = {
        let mut inner = shared.inner.lock().unwrap();
        let fault = inner
            .faults
            .get_mut(&request.path)
            .and_then(VecDeque::pop_front);
        let handler = match request.method.as_str() {
            "POST" => inner.handlers.get(&request.path).cloned(),
            _ => None,
        };
        (fault, handler)
    };
    // The handler runs without the server's lock, so it may take its time or use the server.
    let answer = match (fault, handler) {
        (Some(Fault::Status(status)), _) => (status, Vec::new(), Vec::new()),
        (_, Some(handler)) => {
            let response = handler(&request);
            (response.status, Vec::new(), response.body)
        }
        (_, None) => respond(
            &request,
            shared.inner.lock().unwrap().files.get(&request.path),
        ),
    };
    let answer = (fault != Some(Fault::Stall)).then_some(answer);
    request.status = answer.as_ref().map(|(status, _, _)| *status);
    shared.inner.lock().unwrap().requests.push(request.clone());
    let Some((status, headers, body)) = answer else {
        // A stall: hold the connection open, answering nothing, until the server stops.
        let mut inner = shared.inner.lock().unwrap();
        while !inner.stopped {
            inner = shared.stop.wait(inner).unwrap();
        }
        return;
    };
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in &headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if status != 304 {
        let extra = match fault {
            Some(Fault::LongerLength { extra }) => extra,
            _ => 0,
        };
        head.push_str(&format!("Content-Length: {}\r\n", body.len() + extra));
    }
    head.push_str("Connection: close\r\n\r\n");
    let sent = match fault {
        Some(Fault::Cut { after }) => &body[..after.min(body.len())],
        _ if request.method == "HEAD" => &[],
        _ => &body[..],
    };
    if let Some(Fault::Drip { every_ms }) = fault {
        if stream.write_all(head.as_bytes()).is_err() {
            return;
        }
        for byte in sent {
            if shared.inner.lock().unwrap().stopped || stream.write_all(&[*byte]).is_err() {
                return;
            }
            let _ = stream.flush();
            std::thread::sleep(Duration::from_millis(every_ms));
        }
        return;
    }
    if stream.write_all(head.as_bytes()).is_err() || stream.write_all(sent).is_err() {
        return;
    }
    let _ = stream.flush();
    // Close our side, then wait for the client to close its own, so that nothing it has not
    // read yet is thrown away by a reset.
    let _ = stream.shutdown(Shutdown::Write);
    let mut rest = [0u8; 1024];
    while matches!(stream.read(&mut rest), Ok(n) if n > 0) {}
}
