//! Files the user names: inputs read within a size cap, and outputs that may be neither an input nor
//! another output (a `--csv` naming the capture would truncate it before it is read).

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use phonehome_intel::{read_list, ListText};

/// Largest identifiers file read (`--ids`), as for lists: a real one is a few hundred bytes.
pub const MAX_IDS_BYTES: u64 = phonehome_intel::MAX_LIST_BYTES;

/// What makes two names the same file.
#[derive(Debug, PartialEq, Eq)]
enum Identity {
    /// An existing file: its device and inode (hard links and symbolic links included).
    Inode(u64, u64),
    /// A file still to be created: its absolute path, its directory resolved.
    Path(PathBuf),
}

/// `None` for a character device (`/dev/null`, `/dev/full`): several outputs may write there.
fn identity(path: &Path) -> Option<Identity> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.file_type().is_char_device() => None,
        Ok(meta) => Some(Identity::Inode(meta.dev(), meta.ino())),
        Err(_) => {
            let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
            let resolved = match (absolute.parent().map(std::fs::canonicalize), absolute.file_name()) {
                (Some(Ok(dir)), Some(name)) => dir.join(name),
                _ => absolute,
            };
            Some(Identity::Path(resolved))
        }
    }
}

/// Refuses outputs that are the same file as an input or as another output, before anything is written.
/// `inputs` and `outputs` are (option, path) pairs, e.g. `("--csv", path)`.
pub fn check_distinct(inputs: &[(&str, &Path)], outputs: &[(&str, &Path)]) -> Result<()> {
    let outputs: Vec<_> = outputs.iter().filter_map(|&(flag, path)| Some((flag, path, identity(path)?))).collect();
    for (i, (flag, path, id)) in outputs.iter().enumerate() {
        if let Some((input, _)) = inputs.iter().find(|(_, input)| identity(input).as_ref() == Some(id)) {
            bail!("{flag} {} is also an input ({input}): refusing to overwrite it", path.display());
        }
        if let Some((other, _, _)) = outputs.get(i + 1..).unwrap_or_default().iter().find(|(_, _, other)| other == id) {
            bail!("{flag} and {other} name the same file {}: give each output its own", path.display());
        }
    }
    Ok(())
}

/// A block list file (`--list`), read as the app reads them ([`phonehome_intel::read_list`]).
pub fn read_list_file(path: &Path) -> Result<ListText> {
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    read_list(file).with_context(|| format!("cannot read {}", path.display()))
}

/// The identifiers file (`--ids`): UTF-8 text (TOML) of at most [`MAX_IDS_BYTES`].
pub fn read_ids_file(path: &Path) -> Result<String> {
    let context = || format!("cannot read {}", path.display());
    let file = File::open(path).with_context(context)?;
    let mut bytes = Vec::new();
    file.take(MAX_IDS_BYTES + 1).read_to_end(&mut bytes).with_context(context)?;
    if u64::try_from(bytes.len()).map_or(true, |len| len > MAX_IDS_BYTES) {
        bail!("{}: larger than {MAX_IDS_BYTES} bytes, not an identifiers file", path.display());
    }
    String::from_utf8(bytes).with_context(|| format!("{}: not UTF-8 text (TOML)", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_may_be_neither_an_input_nor_another_output() {
        let dir = tempfile::tempdir().unwrap();
        let capture = dir.path().join("c.pcap");
        std::fs::write(&capture, b"capture").unwrap();
        let link = dir.path().join("link.pcap");
        std::os::unix::fs::symlink(&capture, &link).unwrap();
        let (csv, jsonl) = (dir.path().join("f.csv"), dir.path().join("sub/../f.csv"));
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let inputs = [("capture", capture.as_path())];

        let error = check_distinct(&inputs, &[("--csv", &link)]).unwrap_err().to_string();
        assert!(error.contains("--csv") && error.contains("also an input (capture)"), "{error}");
        let error = check_distinct(&inputs, &[("--csv", &csv), ("--jsonl", &jsonl)]).unwrap_err().to_string();
        assert!(error.contains("--csv and --jsonl name the same file"), "{error}");
        assert!(check_distinct(&inputs, &[("--csv", &csv), ("--jsonl", &dir.path().join("f.jsonl"))]).is_ok());
        let null = Path::new("/dev/null");
        assert!(check_distinct(&inputs, &[("--csv", null), ("--jsonl", null)]).is_ok(), "a device takes both");
        assert_eq!(std::fs::read(&capture).unwrap(), b"capture");
    }

    #[test]
    fn an_endless_identifiers_file_is_refused_within_its_cap() {
        let error = read_ids_file(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(error.contains("larger than 67108864 bytes"), "{error}");
    }
}
