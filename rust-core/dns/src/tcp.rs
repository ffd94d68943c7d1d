//! DNS over TCP framing (RFC 1035 §4.2.2, RFC 7766 §8): each message has a 2-byte length prefix.

/// The complete messages at the start of a DNS-over-TCP byte stream.
pub fn tcp_messages(stream: &[u8]) -> TcpMessages<'_> {
    TcpMessages { rest: stream }
}

/// Iterator over length-prefixed messages; it stops at the first incomplete one.
#[derive(Debug, Clone)]
pub struct TcpMessages<'a> {
    rest: &'a [u8],
}

impl<'a> TcpMessages<'a> {
    /// The bytes not yet returned: an incomplete message the caller may complete later.
    pub fn remainder(&self) -> &'a [u8] {
        self.rest
    }
}

impl<'a> Iterator for TcpMessages<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (prefix, after) = self.rest.split_first_chunk::<2>()?;
        let len = usize::from(u16::from_be_bytes(*prefix));
        let message = after.get(..len)?;
        self.rest = after.get(len..)?;
        Some(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn splits_messages_and_keeps_the_incomplete_tail() {
        let stream = b"\x00\x03abc\x00\x00\x00\x02de\x00\x05fg";
        let mut messages = tcp_messages(stream);
        assert_eq!(messages.by_ref().collect::<Vec<_>>(), [&b"abc"[..], b"", b"de"]);
        assert_eq!(messages.remainder(), b"\x00\x05fg");
        assert_eq!(tcp_messages(b"\x00").next(), None);
    }

    proptest! {
        #[test]
        fn framing_round_trips(messages in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..8), cut in any::<prop::sample::Index>()) {
            let mut stream = Vec::new();
            for message in &messages {
                stream.extend_from_slice(&u16::try_from(message.len()).expect("short").to_be_bytes());
                stream.extend_from_slice(message);
            }
            let parsed: Vec<&[u8]> = tcp_messages(&stream).collect();
            prop_assert_eq!(parsed, messages.iter().map(Vec::as_slice).collect::<Vec<_>>());
            // A cut stream yields a prefix of the messages, and the rest is kept.
            let cut_stream = &stream[..cut.index(stream.len() + 1)];
            let mut iter = tcp_messages(cut_stream);
            let got: Vec<&[u8]> = iter.by_ref().collect();
            prop_assert!(got.len() <= messages.len());
            let used: usize = got.iter().map(|m| m.len() + 2).sum();
            prop_assert_eq!(iter.remainder().len(), cut_stream.len() - used);
        }
    }
}
