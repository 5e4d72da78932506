//! The content-addressed blob folder: `blobs/ab/cdef…`, named by BLAKE3.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use crate::StoreError;

#[derive(Debug)]
pub(crate) struct Blobs {
    dir: PathBuf,
    /// The store's name in error messages.
    store: String,
}

impl Blobs {
    pub(crate) fn open(dir: PathBuf, store: String) -> Result<Blobs, StoreError> {
        fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        Ok(Blobs { dir, store })
    }

    /// Writes to a temporary file in the target folder, syncs it, then renames
    /// it into place, so a blob file is either absent or complete.
    pub(crate) fn put(&self, bytes: &[u8]) -> Result<String, StoreError> {
        let hash = blake3::hash(bytes).to_hex().to_string();
        let path = self.path(&hash);
        if path.exists() {
            return Ok(hash);
        }
        let dir = path.parent().unwrap_or(&self.dir);
        fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| io(dir, e))?;
        tmp.write_all(bytes).map_err(|e| io(tmp.path(), e))?;
        tmp.as_file().sync_data().map_err(|e| io(tmp.path(), e))?;
        tmp.persist(&path).map_err(|e| io(&path, e.error))?;
        Ok(hash)
    }

    pub(crate) fn get(&self, hash: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if hash.len() != 64 || !hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(StoreError::InvalidHash(hash.to_owned()));
        }
        let path = self.path(hash);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&path, e)),
        };
        if blake3::hash(&bytes).to_hex().as_str() != hash {
            return Err(StoreError::Damaged {
                store: self.store.clone(),
                detail: format!("blob {} does not match its hash", path.display()),
            });
        }
        Ok(Some(bytes))
    }

    fn path(&self, hash: &str) -> PathBuf {
        let (head, tail) = hash.split_at(2);
        self.dir.join(head).join(tail)
    }
}

pub(crate) fn io(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}
