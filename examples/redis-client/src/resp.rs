//! RESP2, the Redis protocol: a command goes out as an array of bulk
//! strings; a reply comes in as a type line (`readline`) and, for a bulk
//! string, a body of announced length (`readexactly`) that may hold any
//! bytes, `\r\n` included.

use std::fmt;

/// Redis refuses bulk strings longer than this (`proto-max-bulk-len`).
const MAX_BULK: usize = 512 * 1024 * 1024;

/// How deeply arrays may nest before a reply counts as malformed; keeps a
/// hostile server from exhausting the stack.
const MAX_DEPTH: usize = 32;

/// The two reads RESP needs, as asyncio's `StreamReader` offers them.
pub trait Source {
    /// What a failed read reports; a malformed reply is one too.
    type Error: From<ProtocolError>;

    /// The next line, ending in `\n`; end of file is an error.
    fn readline(&mut self) -> Result<Vec<u8>, Self::Error>;

    /// Exactly `n` bytes; end of file first is an error.
    fn readexactly(&mut self, n: usize) -> Result<Vec<u8>, Self::Error>;
}

/// The bytes received are not RESP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(String);

impl ProtocolError {
    pub fn new(reason: impl Into<String>) -> Self {
        ProtocolError(reason.into())
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`
    Simple(Vec<u8>),
    /// `-ERR ...`
    Error(Vec<u8>),
    /// `:42`
    Integer(i64),
    /// `$5` and five bytes; `$-1` is `None` (no such key).
    Bulk(Option<Vec<u8>>),
    /// `*2` and two replies; `*-1` is `None`.
    Array(Option<Vec<Reply>>),
}

/// `args` as the array of bulk strings Redis expects.
pub fn encode_command<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        let arg = arg.as_ref();
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Read one whole reply.
pub fn read_reply<S: Source>(source: &mut S) -> Result<Reply, S::Error> {
    read_nested(source, 0)
}

fn read_nested<S: Source>(source: &mut S, depth: usize) -> Result<Reply, S::Error> {
    let line = source.readline()?;
    let line = line
        .strip_suffix(b"\r\n")
        .ok_or_else(|| malformed("a reply line does not end in CRLF"))?;
    let (&kind, rest) = line
        .split_first()
        .ok_or_else(|| malformed("an empty reply line"))?;
    match kind {
        b'+' => Ok(Reply::Simple(rest.to_vec())),
        b'-' => Ok(Reply::Error(rest.to_vec())),
        b':' => Ok(Reply::Integer(parse_integer(rest)?)),
        b'$' => {
            let Some(len) = parse_length(rest)? else {
                return Ok(Reply::Bulk(None));
            };
            if len > MAX_BULK {
                return Err(malformed(format!("a bulk string of {len} bytes")).into());
            }
            let mut body = source.readexactly(len + 2)?;
            if !body.ends_with(b"\r\n") {
                return Err(malformed("a bulk string does not end in CRLF").into());
            }
            body.truncate(len);
            Ok(Reply::Bulk(Some(body)))
        }
        b'*' => {
            let Some(len) = parse_length(rest)? else {
                return Ok(Reply::Array(None));
            };
            if depth == MAX_DEPTH {
                return Err(malformed(format!("arrays nested over {MAX_DEPTH} deep")).into());
            }
            // Grows with the replies received, not with the announced length.
            let mut items = Vec::new();
            for _ in 0..len {
                items.push(read_nested(source, depth + 1)?);
            }
            Ok(Reply::Array(Some(items)))
        }
        other => Err(malformed(format!("unknown reply type {:?}", char::from(other))).into()),
    }
}

fn malformed(reason: impl Into<String>) -> ProtocolError {
    ProtocolError::new(reason)
}

fn parse_integer(digits: &[u8]) -> Result<i64, ProtocolError> {
    std::str::from_utf8(digits)
        .ok()
        .and_then(|digits| digits.parse().ok())
        .ok_or_else(|| malformed(format!("not an integer: {}", quote(digits))))
}

/// A length, or `None` for `-1` (a null bulk string or array).
fn parse_length(digits: &[u8]) -> Result<Option<usize>, ProtocolError> {
    match parse_integer(digits)? {
        -1 => Ok(None),
        len => usize::try_from(len)
            .map(Some)
            .map_err(|_| malformed(format!("a negative length: {len}"))),
    }
}

impl Reply {
    /// The reply as `redis-cli` shows it: `OK`, `(integer) 1`, `"value"`
    /// (escaped), `(nil)`, `(error) ERR ...`, numbered array items.
    pub fn render(&self) -> String {
        self.lines().join("\n")
    }

    fn lines(&self) -> Vec<String> {
        match self {
            Reply::Simple(text) => vec![String::from_utf8_lossy(text).into_owned()],
            Reply::Error(text) => vec![format!("(error) {}", String::from_utf8_lossy(text))],
            Reply::Integer(n) => vec![format!("(integer) {n}")],
            Reply::Bulk(Some(data)) => vec![quote(data)],
            Reply::Bulk(None) | Reply::Array(None) => vec!["(nil)".to_owned()],
            Reply::Array(Some(items)) if items.is_empty() => vec!["(empty array)".to_owned()],
            Reply::Array(Some(items)) => {
                let width = items.len().to_string().len();
                let mut lines = Vec::new();
                for (index, item) in items.iter().enumerate() {
                    let number = format!("{:>width$}) ", index + 1);
                    for (n, line) in item.lines().into_iter().enumerate() {
                        let lead = if n == 0 {
                            number.clone()
                        } else {
                            " ".repeat(number.len())
                        };
                        lines.push(lead + &line);
                    }
                }
                lines
            }
        }
    }
}

/// `bytes` in double quotes with `redis-cli`'s escapes: `\\`, `\"`, `\n`,
/// `\r`, `\t`, `\a`, `\b`, and `\xhh` for any other non-printable byte.
pub fn quote(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &byte in bytes {
        match byte {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            b' '..=b'~' => out.push(char::from(byte)),
            _ => out.push_str(&format!("\\x{byte:02x}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replies from a byte string, read as wasio's reader would.
    struct Bytes<'a>(&'a [u8]);

    #[derive(Debug, PartialEq)]
    enum Failed {
        Eof,
        Protocol(ProtocolError),
    }

    impl From<ProtocolError> for Failed {
        fn from(error: ProtocolError) -> Self {
            Failed::Protocol(error)
        }
    }

    impl Source for Bytes<'_> {
        type Error = Failed;

        fn readline(&mut self) -> Result<Vec<u8>, Failed> {
            let end = self.0.iter().position(|&b| b == b'\n').ok_or(Failed::Eof)?;
            let (line, rest) = self.0.split_at(end + 1);
            self.0 = rest;
            Ok(line.to_vec())
        }

        fn readexactly(&mut self, n: usize) -> Result<Vec<u8>, Failed> {
            if n > self.0.len() {
                return Err(Failed::Eof);
            }
            let (data, rest) = self.0.split_at(n);
            self.0 = rest;
            Ok(data.to_vec())
        }
    }

    fn parse(bytes: &[u8]) -> Result<Reply, Failed> {
        let mut source = Bytes(bytes);
        let reply = read_reply(&mut source)?;
        assert!(source.0.is_empty(), "left over: {:?}", source.0);
        Ok(reply)
    }

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        assert_eq!(
            encode_command(&["SET", "k", "a\r\nb"]),
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n"
        );
    }

    #[test]
    fn bulk_strings_keep_crlf_inside() {
        let reply = parse(b"$8\r\none\r\ntwo\r\n").unwrap();
        assert_eq!(reply, Reply::Bulk(Some(b"one\r\ntwo".to_vec())));
        assert_eq!(reply.render(), r#""one\r\ntwo""#);
    }

    #[test]
    fn every_reply_type_renders_as_redis_cli_does() {
        let cases: [(&[u8], &str); 8] = [
            (b"+PONG\r\n", "PONG"),
            (b"-ERR wrong\r\n", "(error) ERR wrong"),
            (b":-7\r\n", "(integer) -7"),
            (b"$-1\r\n", "(nil)"),
            (b"$0\r\n\r\n", r#""""#),
            (b"*-1\r\n", "(nil)"),
            (b"*0\r\n", "(empty array)"),
            (
                b"*2\r\n$1\r\na\r\n*2\r\n:1\r\n$3\r\n\x00\"\\\r\n",
                "1) \"a\"\n2) 1) (integer) 1\n   2) \"\\x00\\\"\\\\\"",
            ),
        ];
        for (bytes, shown) in cases {
            assert_eq!(parse(bytes).unwrap().render(), shown, "{bytes:?}");
        }
    }

    #[test]
    fn malformed_replies_are_errors() {
        for bytes in [
            &b"+OK\n"[..],
            b"\r\n",
            b"?x\r\n",
            b":1.5\r\n",
            b"$-2\r\n",
            b"$3\r\nabcde",
            b"$536870913\r\n",
        ] {
            assert!(
                matches!(parse(bytes), Err(Failed::Protocol(_))),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn end_of_file_inside_a_reply_is_reported_by_the_source() {
        for bytes in [&b""[..], b"$5\r\nab", b"*2\r\n:1\r\n"] {
            assert_eq!(parse(bytes), Err(Failed::Eof), "{bytes:?}");
        }
    }

    #[test]
    fn arrays_nested_too_deep_are_refused() {
        let deep = b"*1\r\n".repeat(MAX_DEPTH + 1);
        assert!(matches!(parse(&deep), Err(Failed::Protocol(_))));
        let mut fine = b"*1\r\n".repeat(MAX_DEPTH);
        fine.extend_from_slice(b":1\r\n");
        assert!(parse(&fine).is_ok());
    }
}
