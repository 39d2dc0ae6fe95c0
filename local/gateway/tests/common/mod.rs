//! What the gateway's test files share.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// One request, written out as is (the gateway has no HTTP client of its own to lend, and these
/// are single requests on loopback): the answer's status code, head and body. Blocking.
pub fn exchange_raw(address: SocketAddr, request: &str) -> (u16, String, String) {
    let mut connection = TcpStream::connect(address).unwrap();
    connection
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    connection.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    connection.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("a status line: {answer}"));
    (status, head.to_owned(), body.to_owned())
}
