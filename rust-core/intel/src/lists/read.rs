//! Reading a list file as the app and the CLI both do: bounded in size, text only, and tolerant of
//! bytes that are not UTF-8 (a Latin-1 comment must not refuse a whole list).

use std::io::Read;

/// Largest list file read: the biggest public DNS block lists are a few tens of MB.
pub const MAX_LIST_BYTES: u64 = 64 * 1024 * 1024;

/// A list file's content as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListText {
    /// The content; bytes that are not UTF-8 are replaced by U+FFFD (such a line is then skipped as
    /// invalid, unless it is a comment).
    pub text: String,
    /// Lines that held bytes that are not UTF-8.
    pub non_utf8_lines: usize,
}

/// Why a list file cannot be read as a list.
#[derive(Debug, thiserror::Error)]
pub enum ListReadError {
    #[error("cannot read the list: {0}")]
    Io(#[from] std::io::Error),
    #[error("the list is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("not a text list (binary content)")]
    Binary,
}

/// Reads at most [`MAX_LIST_BYTES`] (one byte more is an error, so `/dev/zero` costs 64 MiB, not all
/// memory); control characters other than whitespace mark a binary file.
pub fn read_list(source: impl Read) -> Result<ListText, ListReadError> {
    let mut bytes = Vec::new();
    source.take(MAX_LIST_BYTES + 1).read_to_end(&mut bytes)?;
    if u64::try_from(bytes.len()).map_or(true, |len| len > MAX_LIST_BYTES) {
        return Err(ListReadError::TooLarge { limit: MAX_LIST_BYTES });
    }
    if bytes.iter().any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)) {
        return Err(ListReadError::Binary);
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(ListText { text, non_utf8_lines: 0 }),
        Err(error) => {
            let bytes = error.as_bytes();
            let non_utf8_lines = bytes.split(|&b| b == b'\n').filter(|line| std::str::from_utf8(line).is_err()).count();
            Ok(ListText { text: String::from_utf8_lossy(bytes).into_owned(), non_utf8_lines })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_lines_are_replaced_and_counted() {
        let list = b"# Liste \xe9tablie \xe0 la main\nads.example\ncaf\xe9.example\n";
        let read = read_list(&list[..]).unwrap();
        assert_eq!(read.non_utf8_lines, 2);
        assert!(read.text.starts_with("# Liste \u{fffd}tablie"));
        let mut set = crate::ListSet::new();
        let report = set.import(crate::ListInfo::new("fr", crate::ListCategory::Tracker), &read.text).unwrap();
        assert_eq!((report.domains, report.skipped), (1, 1), "the comment is a comment, the bad name is skipped");
    }

    #[test]
    fn size_and_binary_content_are_refused() {
        let endless = std::io::repeat(b'a');
        assert!(matches!(read_list(endless), Err(ListReadError::TooLarge { limit: MAX_LIST_BYTES })));
        assert!(matches!(read_list(&b"ads.example\n\0\0\0"[..]), Err(ListReadError::Binary)));
        let utf8 = read_list("tracker.example\n".as_bytes()).unwrap();
        assert_eq!(utf8, ListText { text: "tracker.example\n".into(), non_utf8_lines: 0 });
    }
}
