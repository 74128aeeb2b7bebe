//! The server name (SNI, RFC 6066) of a TLS ClientHello, read from the
//! first bytes a client sends through a CONNECT tunnel. Nothing is
//! decrypted: the ClientHello is plaintext.
//!
//! The parser is strict about lengths (every length field must fit the
//! structure around it) and never reads past what it was given: with too
//! few bytes it says how many it needs, and it never asks for more than
//! [`MAX_HELLO_BYTES`].

/// The most bytes of the stream a ClientHello may take, record headers
/// included: a full TLS record and then some. Real ClientHellos take a few
/// KiB (post-quantum key shares included); a longer one is
/// [`SniParse::Malformed`], so a caller never buffers more than this.
pub const MAX_HELLO_BYTES: usize = 18 * 1024;

/// The largest plaintext TLS record payload (RFC 8446 section 5.1).
const MAX_RECORD_LEN: usize = 1 << 14;
const RECORD_HEADER_LEN: usize = 5;
const CONTENT_TYPE_HANDSHAKE: u8 = 22;
const HANDSHAKE_HEADER_LEN: usize = 4;
const HANDSHAKE_CLIENT_HELLO: u8 = 1;
const EXTENSION_SERVER_NAME: u16 = 0;
const NAME_TYPE_HOST_NAME: u8 = 0;
const TOO_LONG: &str = "ClientHello longer than the proxy reads";
const NOT_A_HOST_NAME: &str = "server name is not an ASCII host name";

/// What the first bytes of a connection say about its server name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SniParse {
    /// The bytes so far are the start of a ClientHello: read until there
    /// are at least `needed` bytes in all (always more than given, never
    /// more than [`MAX_HELLO_BYTES`]) and ask again.
    Incomplete {
        /// Total bytes needed before the answer can change; a lower
        /// bound when the rest of the ClientHello's layout is unknown.
        needed: usize,
    },
    /// The stream does not start with a TLS handshake record.
    NotTls,
    /// A well-formed ClientHello without a host name.
    NoServerName,
    /// The host name, lower-cased, without a trailing dot.
    ServerName(String),
    /// A TLS handshake record that is not a well-formed ClientHello, or
    /// whose server name is not an acceptable host name.
    Malformed(&'static str),
}

/// The server name of the ClientHello at the start of `buf`. Bytes after
/// the ClientHello (early data, say) are ignored.
pub fn client_hello_server_name(buf: &[u8]) -> SniParse {
    let message = match reassemble(buf) {
        Ok(message) => message,
        Err(answer) => return answer,
    };
    match server_name(message.get(HANDSHAKE_HEADER_LEN..).unwrap_or_default()) {
        Ok(Some(name)) => SniParse::ServerName(name),
        Ok(None) => SniParse::NoServerName,
        Err(what) => SniParse::Malformed(what),
    }
}

/// The ClientHello handshake message (its header included), put together
/// from the handshake records that carry it.
fn reassemble(buf: &[u8]) -> Result<Vec<u8>, SniParse> {
    let mut message: Vec<u8> = Vec::new();
    let mut pos = 0;
    loop {
        let first = pos == 0;
        let header = buf.get(pos..).unwrap_or_default();
        let not_handshake = |what| {
            if first {
                SniParse::NotTls
            } else {
                SniParse::Malformed(what)
            }
        };
        if header.first().is_some_and(|&t| t != CONTENT_TYPE_HANDSHAKE) {
            return Err(not_handshake(
                "record other than handshake inside the ClientHello",
            ));
        }
        if header.get(1).is_some_and(|&major| major != 3) {
            return Err(not_handshake("record version is not TLS"));
        }
        let want = wanted(&message)?;
        let Some(&[hi, lo]) = header.get(3..RECORD_HEADER_LEN) else {
            return Err(incomplete(pos + RECORD_HEADER_LEN + (want - message.len())));
        };
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        if len == 0 {
            return Err(SniParse::Malformed("empty handshake record"));
        }
        if len > MAX_RECORD_LEN {
            return Err(SniParse::Malformed("TLS record longer than 2^14 bytes"));
        }
        let start = pos + RECORD_HEADER_LEN;
        let end = start + len;
        let payload = buf.get(start..end.min(buf.len())).unwrap_or_default();
        let before = message.len();
        message.extend_from_slice(payload);
        let want = wanted(&message)?;
        if message.len() >= want {
            // The ClientHello ends in this record.
            if start + (want - before) > MAX_HELLO_BYTES {
                return Err(SniParse::Malformed(TOO_LONG));
            }
            message.truncate(want);
            return Ok(message);
        }
        let still_needed = want - message.len();
        let unread_in_record = len - payload.len();
        if unread_in_record > 0 {
            let needed = if still_needed <= unread_in_record {
                buf.len() + still_needed
            } else {
                end + RECORD_HEADER_LEN + (still_needed - unread_in_record)
            };
            return Err(incomplete(needed));
        }
        // The next record carries more of it: the stream is at least that
        // long, whether or not `buf` is.
        if end + RECORD_HEADER_LEN + still_needed > MAX_HELLO_BYTES {
            return Err(SniParse::Malformed(TOO_LONG));
        }
        pos = end;
    }
}

/// How long the handshake message being gathered is (header included),
/// as far as its first bytes tell: at least its header.
fn wanted(message: &[u8]) -> Result<usize, SniParse> {
    if message
        .first()
        .is_some_and(|&t| t != HANDSHAKE_CLIENT_HELLO)
    {
        return Err(SniParse::Malformed(
            "handshake message is not a ClientHello",
        ));
    }
    match message.get(1..HANDSHAKE_HEADER_LEN) {
        Some(&[a, b, c]) => {
            let len = HANDSHAKE_HEADER_LEN + u32::from_be_bytes([0, a, b, c]) as usize;
            if len > MAX_HELLO_BYTES {
                return Err(SniParse::Malformed(TOO_LONG));
            }
            Ok(len)
        }
        _ => Ok(HANDSHAKE_HEADER_LEN),
    }
}

fn incomplete(needed: usize) -> SniParse {
    if needed > MAX_HELLO_BYTES {
        SniParse::Malformed(TOO_LONG)
    } else {
        SniParse::Incomplete { needed }
    }
}

/// The host name in a ClientHello body (RFC 8446 section 4.1.2, RFC 5246
/// section 7.4.1.2), if it has one.
fn server_name(body: &[u8]) -> Result<Option<String>, &'static str> {
    let mut hello = Reader(body);
    hello.take(2, "truncated ClientHello version")?;
    hello.take(32, "truncated ClientHello random")?;
    if hello.vec8("truncated session id")?.len() > 32 {
        return Err("session id longer than 32 bytes");
    }
    let suites = hello.vec16("truncated cipher suites")?;
    if suites.is_empty() || suites.len() % 2 != 0 {
        return Err("cipher suites length is not a positive even number");
    }
    if hello.vec8("truncated compression methods")?.is_empty() {
        return Err("no compression methods");
    }
    if hello.is_empty() {
        // No extensions at all, which TLS 1.2 and earlier allow.
        return Ok(None);
    }
    let mut extensions = Reader(hello.vec16("truncated extensions")?);
    if !hello.is_empty() {
        return Err("bytes after the extensions");
    }
    let mut seen = Vec::new();
    let mut name = None;
    while !extensions.is_empty() {
        let kind = extensions.u16("truncated extension type")?;
        let data = extensions.vec16("truncated extension")?;
        seen.push(kind);
        if kind == EXTENSION_SERVER_NAME {
            name = host_name(data)?;
        }
    }
    seen.sort_unstable();
    if seen.windows(2).any(|pair| pair[0] == pair[1]) {
        return Err("duplicate extension");
    }
    Ok(name)
}

/// The host name in a server_name extension's data (RFC 6066 section 3).
fn host_name(data: &[u8]) -> Result<Option<String>, &'static str> {
    let mut extension = Reader(data);
    let mut list = Reader(extension.vec16("truncated server name list")?);
    if !extension.is_empty() {
        return Err("bytes after the server name list");
    }
    if list.is_empty() {
        return Err("empty server name list");
    }
    let mut found = None;
    while !list.is_empty() {
        let name_type = list.u8("truncated server name type")?;
        // Every name type's data starts with a 16-bit length (RFC 6066).
        let name = list.vec16("truncated server name")?;
        if name_type == NAME_TYPE_HOST_NAME {
            if found.is_some() {
                return Err("more than one host name in server_name");
            }
            found = Some(name);
        }
    }
    found.map(normalize).transpose()
}

/// `name` lower-cased without its trailing dot, if it is dot-separated
/// labels of ASCII letters, digits, `-` and `_`.
fn normalize(name: &[u8]) -> Result<String, &'static str> {
    let name = name.strip_suffix(b".").unwrap_or(name);
    if name.is_empty() || name.len() > 253 {
        return Err(NOT_A_HOST_NAME);
    }
    let label_ok = |label: &[u8]| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if !name.split(|&b| b == b'.').all(label_ok) {
        return Err(NOT_A_HOST_NAME);
    }
    Ok(name
        .iter()
        .map(|&b| char::from(b.to_ascii_lowercase()))
        .collect())
}

/// A cursor over a TLS structure; each read fails with the given message
/// when the bytes run out.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], &'static str> {
        let (head, rest) = self.0.split_at_checked(n).ok_or(what)?;
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, &'static str> {
        match self.take(1, what)? {
            &[b] => Ok(b),
            _ => Err(what),
        }
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, &'static str> {
        match self.take(2, what)? {
            &[hi, lo] => Ok(u16::from_be_bytes([hi, lo])),
            _ => Err(what),
        }
    }

    /// A vector with a one-byte length.
    fn vec8(&mut self, what: &'static str) -> Result<&'a [u8], &'static str> {
        let len = self.u8(what)?;
        self.take(len.into(), what)
    }

    /// A vector with a two-byte length.
    fn vec16(&mut self, what: &'static str) -> Result<&'a [u8], &'static str> {
        let len = self.u16(what)?;
        self.take(len.into(), what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SUPPORTED_VERSIONS: u16 = 43;
    const PADDING: u16 = 21;
    const GREASE: u16 = 0x0a0a;

    fn u16_be(n: usize) -> [u8; 2] {
        u16::try_from(n).unwrap().to_be_bytes()
    }

    /// A server_name extension listing `(name_type, name)` entries.
    fn sni_extension(entries: &[(u8, &[u8])]) -> (u16, Vec<u8>) {
        let mut list = Vec::new();
        for (name_type, name) in entries {
            list.push(*name_type);
            list.extend(u16_be(name.len()));
            list.extend(*name);
        }
        let mut data = u16_be(list.len()).to_vec();
        data.extend(list);
        (EXTENSION_SERVER_NAME, data)
    }

    /// A ClientHello body up to its extensions block (which is not
    /// included).
    fn hello_start() -> Vec<u8> {
        let mut body = vec![3, 3];
        body.extend([0x11; 32]); // random
        body.push(32); // session id
        body.extend([0x22; 32]);
        body.extend([0, 4, 0x13, 0x01, 0x13, 0x02]); // two cipher suites
        body.extend([1, 0]); // null compression
        body
    }

    /// A ClientHello handshake message (header included) with these
    /// extensions, in this order.
    fn hello_message(extensions: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut block = Vec::new();
        for (kind, data) in extensions {
            block.extend(kind.to_be_bytes());
            block.extend(u16_be(data.len()));
            block.extend(data);
        }
        let mut body = hello_start();
        body.extend(u16_be(block.len()));
        body.extend(block);
        handshake(&body)
    }

    /// A ClientHello handshake message around `body`.
    fn handshake(body: &[u8]) -> Vec<u8> {
        let mut message = vec![HANDSHAKE_CLIENT_HELLO];
        message.extend(&u32::try_from(body.len()).unwrap().to_be_bytes()[1..]);
        message.extend(body);
        message
    }

    /// `message` in handshake records, cut at the offsets in `cuts`.
    fn records(message: &[u8], cuts: &[usize]) -> Vec<u8> {
        let mut bounds = vec![0];
        bounds.extend(cuts);
        bounds.push(message.len());
        let mut out = Vec::new();
        for pair in bounds.windows(2) {
            let fragment = &message[pair[0]..pair[1]];
            out.extend([CONTENT_TYPE_HANDSHAKE, 3, 1]);
            out.extend(u16_be(fragment.len()));
            out.extend(fragment);
        }
        out
    }

    /// A one-record ClientHello naming `name`.
    fn hello(name: &str) -> Vec<u8> {
        records(
            &hello_message(&[sni_extension(&[(0, name.as_bytes())])]),
            &[],
        )
    }

    fn parse(buf: &[u8]) -> SniParse {
        client_hello_server_name(buf)
    }

    fn name(s: &str) -> SniParse {
        SniParse::ServerName(s.to_string())
    }

    fn malformed(buf: &[u8]) -> &'static str {
        match parse(buf) {
            SniParse::Malformed(what) => what,
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    /// Every strict prefix of `full` is Incomplete, asking for more than it
    /// has and no more than `full` has.
    fn assert_prefixes_incomplete(full: &[u8]) {
        for len in 0..full.len() {
            match parse(&full[..len]) {
                SniParse::Incomplete { needed } => {
                    assert!(needed > len, "prefix {len}: needed {needed}");
                    assert!(needed <= full.len(), "prefix {len}: needed {needed}");
                }
                other => panic!("prefix of {len} bytes: {other:?}"),
            }
        }
    }

    fn fixture(hex: &str) -> Vec<u8> {
        let hex = hex.trim();
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn server_name() {
        assert_eq!(parse(&hello("example.com")), name("example.com"));
        assert_eq!(parse(&hello("localhost")), name("localhost"));
        assert_eq!(parse(&hello("a-b_c.9.example")), name("a-b_c.9.example"));
    }

    #[test]
    fn name_is_lower_cased_without_trailing_dot() {
        assert_eq!(parse(&hello("PyPI.Org.")), name("pypi.org"));
    }

    #[test]
    fn ip_literal_is_returned_as_given() {
        assert_eq!(parse(&hello("127.0.0.1")), name("127.0.0.1"));
    }

    #[test]
    fn names_that_are_not_host_names() {
        let long_label = "a".repeat(64);
        let long_name = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(62),
        ]
        .join(".");
        assert_eq!(long_name.len(), 254);
        for bad in [
            "",
            ".",
            "..",
            "a..b",
            ".a",
            "a.b..",
            "exa mple.com",
            "example.com:443",
            "::1",
            "[::1]",
            "é.example",
            "a\0b",
            "a/b",
            long_label.as_str(),
            long_name.as_str(),
        ] {
            assert_eq!(malformed(&hello(bad)), NOT_A_HOST_NAME, "{bad:?}");
        }
        assert_eq!(
            malformed(&hello(
                &[0xff, 0xfe].map(char::from).iter().collect::<String>()
            )),
            NOT_A_HOST_NAME
        );
        // The limits themselves are fine.
        let max_label = "a".repeat(63);
        assert_eq!(parse(&hello(&max_label)), name(&max_label));
        let max_name = &long_name[..253];
        assert_eq!(parse(&hello(&format!("{max_name}."))), name(max_name));
    }

    #[test]
    fn other_extensions_around_server_name() {
        let message = hello_message(&[
            (GREASE, vec![]),
            (SUPPORTED_VERSIONS, vec![4, 3, 4, 3, 3]),
            sni_extension(&[(0, b"example.org")]),
            (PADDING, vec![0; 300]),
        ]);
        assert_eq!(parse(&records(&message, &[])), name("example.org"));
    }

    #[test]
    fn no_server_name() {
        let message = hello_message(&[(SUPPORTED_VERSIONS, vec![2, 3, 4])]);
        assert_eq!(parse(&records(&message, &[])), SniParse::NoServerName);
        // No extensions block at all.
        let message = handshake(&hello_start());
        assert_eq!(parse(&records(&message, &[])), SniParse::NoServerName);
        // An empty extensions block.
        let message = hello_message(&[]);
        assert_eq!(parse(&records(&message, &[])), SniParse::NoServerName);
        // Only a name of another type.
        let message = hello_message(&[sni_extension(&[(7, b"opaque")])]);
        assert_eq!(parse(&records(&message, &[])), SniParse::NoServerName);
    }

    #[test]
    fn names_of_other_types_are_skipped() {
        let message = hello_message(&[sni_extension(&[(7, b"x"), (0, b"example.com"), (9, b"")])]);
        assert_eq!(parse(&records(&message, &[])), name("example.com"));
    }

    #[test]
    fn more_than_one_host_name() {
        let message = hello_message(&[sni_extension(&[(0, b"a.example"), (0, b"b.example")])]);
        assert_eq!(
            malformed(&records(&message, &[])),
            "more than one host name in server_name"
        );
        let message = hello_message(&[
            sni_extension(&[(0, b"a.example")]),
            sni_extension(&[(0, b"b.example")]),
        ]);
        assert_eq!(malformed(&records(&message, &[])), "duplicate extension");
        let message = hello_message(&[
            (PADDING, vec![]),
            sni_extension(&[(0, b"a.example")]),
            (PADDING, vec![]),
        ]);
        assert_eq!(malformed(&records(&message, &[])), "duplicate extension");
    }

    #[test]
    fn split_across_records_anywhere() {
        let message = hello_message(&[
            (PADDING, vec![0; 40]),
            sni_extension(&[(0, b"split.example")]),
        ]);
        for cut in 1..message.len() {
            let buf = records(&message, &[cut]);
            assert_eq!(parse(&buf), name("split.example"), "cut at {cut}");
            assert_prefixes_incomplete(&buf);
        }
        // One byte a record.
        let cuts: Vec<usize> = (1..message.len()).collect();
        let buf = records(&message, &cuts);
        assert_eq!(parse(&buf), name("split.example"));
        assert_prefixes_incomplete(&buf);
    }

    #[test]
    fn every_prefix_is_incomplete() {
        assert_eq!(parse(&[]), SniParse::Incomplete { needed: 9 });
        assert_eq!(parse(&[22]), SniParse::Incomplete { needed: 9 });
        let buf = hello("example.com");
        assert_prefixes_incomplete(&buf);
        // Once the handshake header is in, the hello's end is known.
        assert_eq!(parse(&buf[..5]), SniParse::Incomplete { needed: 9 });
        assert_eq!(parse(&buf[..9]), SniParse::Incomplete { needed: buf.len() });
    }

    #[test]
    fn bytes_after_the_hello_are_ignored() {
        let mut buf = hello("example.com");
        buf.extend([20, 3, 3, 0, 1, 1]); // change_cipher_spec
        buf.extend([23, 3, 3, 0, 3, 1, 2, 3]); // early data
        assert_eq!(parse(&buf), name("example.com"));
        // More handshake bytes in the hello's last record.
        let mut message = hello_message(&[sni_extension(&[(0, b"example.com")])]);
        message.extend([2, 0, 0, 0]);
        assert_eq!(parse(&records(&message, &[])), name("example.com"));
    }

    #[test]
    fn not_tls() {
        for buf in [
            b"GET / HTTP/1.1\r\n".as_slice(),
            b"CONNECT example.com:443 HTTP/1.1\r\n",
            b"SSH-2.0-OpenSSH_9.6\r\n",
            b"G",
            &[0x80, 0x2e, 0x01, 0x00, 0x02], // SSLv2-compatible hello
            &[22, 2],
            &[22, 0x7f, 0, 0, 0],
            &[23, 3, 3, 0, 5, 1, 2, 3, 4, 5],
        ] {
            assert_eq!(parse(buf), SniParse::NotTls, "{buf:?}");
        }
    }

    #[test]
    fn malformed_records() {
        assert_eq!(malformed(&[22, 3, 1, 0, 0]), "empty handshake record");
        assert_eq!(
            malformed(&[22, 3, 1, 0x40, 1]),
            "TLS record longer than 2^14 bytes"
        );
        // A ServerHello, a Finished.
        assert_eq!(
            malformed(&[22, 3, 3, 0, 4, 2, 0, 0, 0]),
            "handshake message is not a ClientHello"
        );
        assert_eq!(
            malformed(&[22, 3, 3, 0, 1, 20]),
            "handshake message is not a ClientHello"
        );
        let message = hello_message(&[sni_extension(&[(0, b"example.com")])]);
        // An alert, then a bad version, between two halves.
        let mut buf = records(&message[..10], &[]);
        buf.extend([21, 3, 3, 0, 2, 2, 40]);
        assert_eq!(
            malformed(&buf),
            "record other than handshake inside the ClientHello"
        );
        let mut buf = records(&message[..10], &[]);
        buf.extend([22, 4]);
        assert_eq!(malformed(&buf), "record version is not TLS");
        // Zero-length handshake record in the middle.
        let mut buf = records(&message[..10], &[]);
        buf.extend([22, 3, 3, 0, 0]);
        assert_eq!(malformed(&buf), "empty handshake record");
    }

    #[test]
    fn malformed_hellos() {
        let body_with = |edit: &dyn Fn(&mut Vec<u8>)| {
            let mut body = hello_start();
            edit(&mut body);
            records(&handshake(&body), &[])
        };
        // Session id length 33.
        let buf = body_with(&|b| {
            b[34] = 33;
            b.insert(35, 0x22);
        });
        assert_eq!(malformed(&buf), "session id longer than 32 bytes");
        for suites_len in [0, 3] {
            let buf = body_with(&|b| b[68] = suites_len);
            assert_eq!(
                malformed(&buf),
                "cipher suites length is not a positive even number"
            );
        }
        let buf = body_with(&|b| b[68] = 200);
        assert_eq!(malformed(&buf), "truncated cipher suites");
        let buf = body_with(&|b| b.truncate(30));
        assert_eq!(malformed(&buf), "truncated ClientHello random");
        let buf = body_with(&|b| b.truncate(1));
        assert_eq!(malformed(&buf), "truncated ClientHello version");
        let buf = body_with(&|b| b.truncate(50));
        assert_eq!(malformed(&buf), "truncated session id");
        let buf = body_with(&|b| b.truncate(73));
        assert_eq!(malformed(&buf), "truncated compression methods");
        let buf = body_with(&|b| b[73] = 0);
        assert_eq!(malformed(&buf), "no compression methods");
        let buf = body_with(&|b| b.push(0)); // half an extensions length
        assert_eq!(malformed(&buf), "truncated extensions");
        let buf = body_with(&|b| b.extend([0, 0, 0])); // extensions block + 1
        assert_eq!(malformed(&buf), "bytes after the extensions");
        let buf = body_with(&|b| b.extend([0, 3, 0, 0])); // block overruns
        assert_eq!(malformed(&buf), "truncated extensions");
        let buf = body_with(&|b| b.extend([0, 3, 0, 0, 0])); // half an extension
        assert_eq!(malformed(&buf), "truncated extension");
        let buf = body_with(&|b| b.extend([0, 1, 0]));
        assert_eq!(malformed(&buf), "truncated extension type");
    }

    #[test]
    fn malformed_server_name_extensions() {
        let ext = |data: &[u8]| {
            records(
                &hello_message(&[(EXTENSION_SERVER_NAME, data.to_vec())]),
                &[],
            )
        };
        assert_eq!(malformed(&ext(&[])), "truncated server name list");
        assert_eq!(malformed(&ext(&[0, 0])), "empty server name list");
        assert_eq!(malformed(&ext(&[0, 1, 0])), "truncated server name");
        assert_eq!(malformed(&ext(&[0, 2, 0, 0])), "truncated server name");
        assert_eq!(
            malformed(&ext(&[0, 4, 0, 0, 2, b'a'])),
            "truncated server name"
        );
        assert_eq!(
            malformed(&ext(&[0, 5, 0, 0, 1, b'a'])),
            "truncated server name list"
        );
        assert_eq!(
            malformed(&ext(&[0, 4, 0, 0, 1, b'a', 0])),
            "bytes after the server name list"
        );
        assert_eq!(malformed(&ext(&[0, 3, 0, 0, 0])), NOT_A_HOST_NAME);
    }

    #[test]
    fn length_cap() {
        // A handshake length past the cap is refused as soon as it is read.
        assert_eq!(malformed(&[22, 3, 1, 0, 4, 1, 0, 0x48, 0]), TOO_LONG);
        assert_eq!(malformed(&[22, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff]), TOO_LONG);
        let padded = |pad: usize| {
            hello_message(&[
                (PADDING, vec![0; pad]),
                sni_extension(&[(0, b"big.example")]),
            ])
        };
        // The largest ClientHello in two records that fits, and one byte more.
        let base = padded(0).len();
        let fits = padded(MAX_HELLO_BYTES - 2 * RECORD_HEADER_LEN - base);
        let buf = records(&fits, &[MAX_RECORD_LEN]);
        assert_eq!(buf.len(), MAX_HELLO_BYTES);
        assert_eq!(parse(&buf), name("big.example"));
        let too_long = padded(MAX_HELLO_BYTES - 2 * RECORD_HEADER_LEN - base + 1);
        let buf = records(&too_long, &[MAX_RECORD_LEN]);
        assert_eq!(malformed(&buf), TOO_LONG);
        // Refused with only the first record in hand, as it is then known
        // not to fit.
        assert_eq!(
            malformed(&buf[..MAX_RECORD_LEN + RECORD_HEADER_LEN]),
            TOO_LONG
        );
        // Small records: the headers count.
        let cuts: Vec<usize> = (1..fits.len()).step_by(1000).skip(1).collect();
        assert_eq!(malformed(&records(&fits, &cuts)), TOO_LONG);
        let small = padded(2000);
        let cuts: Vec<usize> = (1..small.len()).collect();
        let buf = records(&small, &cuts);
        assert!(buf.len() <= MAX_HELLO_BYTES);
        assert_eq!(parse(&buf), name("big.example"));
    }

    #[test]
    fn captured_hellos() {
        for (hex, want) in [
            (
                include_str!("testdata/client_hello_openssl_pypi.org.hex"),
                "pypi.org",
            ),
            (
                include_str!("testdata/client_hello_curl_files.pythonhosted.org.hex"),
                "files.pythonhosted.org",
            ),
            (
                include_str!("testdata/client_hello_python_github.com.hex"),
                "github.com",
            ),
        ] {
            let buf = fixture(hex);
            assert_eq!(parse(&buf), name(want));
            assert_prefixes_incomplete(&buf);
        }
    }

    fn host_name_strategy() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_-]{1,20}(\\.[A-Za-z0-9_-]{1,20}){0,4}\\.?"
    }

    proptest! {
        /// Whatever the bytes, an answer and no panic; an Incomplete
        /// answer asks for more than was given.
        #[test]
        fn arbitrary_bytes(buf in prop::collection::vec(any::<u8>(), 0..600)) {
            if let SniParse::Incomplete { needed } = parse(&buf) {
                prop_assert!(needed > buf.len() && needed <= MAX_HELLO_BYTES);
            }
        }

        /// Arbitrary bytes behind a handshake record header and a
        /// ClientHello header: the deeper parser gets exercised too.
        #[test]
        fn arbitrary_hello_bodies(body in prop::collection::vec(any::<u8>(), 0..400)) {
            let buf = records(&handshake(&body), &[]);
            let answer = parse(&buf);
            let settled = !matches!(answer, SniParse::Incomplete { .. } | SniParse::NotTls);
            prop_assert!(settled, "{:?}", answer);
        }

        /// A settled answer (anything but Incomplete) stays the same when
        /// more bytes arrive.
        #[test]
        fn settled_answers_stay(
            name in host_name_strategy(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
            len in any::<prop::sample::Index>(),
            tail in prop::collection::vec(any::<u8>(), 0..20),
        ) {
            let mut buf = records(&hello_message(&[sni_extension(&[(0, name.as_bytes())])]), &[40]);
            for (at, byte) in edits {
                let i = at.index(buf.len());
                buf[i] = byte;
            }
            buf.extend(tail);
            let head = parse(&buf[..len.index(buf.len() + 1)]);
            if !matches!(head, SniParse::Incomplete { .. }) {
                prop_assert_eq!(head, parse(&buf));
            }
        }

        /// A valid ClientHello with some bytes changed: no panic.
        #[test]
        fn mutated_hellos(
            name in host_name_strategy(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        ) {
            let mut buf = hello(&name);
            for (at, byte) in edits {
                let i = at.index(buf.len());
                buf[i] = byte;
            }
            if let SniParse::Incomplete { needed } = parse(&buf) {
                prop_assert!(needed > buf.len());
            }
        }

        /// However a ClientHello is cut into records, it gives its name,
        /// and any strict prefix of it is Incomplete.
        #[test]
        fn any_prefix_is_incomplete(
            name in host_name_strategy(),
            pad in 0usize..300,
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
            len in any::<prop::sample::Index>(),
        ) {
            let message = hello_message(&[
                (PADDING, vec![0; pad]),
                sni_extension(&[(0, name.as_bytes())]),
            ]);
            let mut cuts: Vec<usize> =
                cuts.iter().map(|i| 1 + i.index(message.len() - 1)).collect();
            cuts.sort_unstable();
            cuts.dedup();
            let buf = records(&message, &cuts);
            let want = name.strip_suffix('.').unwrap_or(&name).to_ascii_lowercase();
            prop_assert_eq!(parse(&buf), SniParse::ServerName(want));
            let len = len.index(buf.len());
            match parse(&buf[..len]) {
                SniParse::Incomplete { needed } => {
                    prop_assert!(needed > len && needed <= buf.len());
                }
                other => prop_assert!(false, "prefix of {} bytes: {:?}", len, other),
            }
        }
    }
}
