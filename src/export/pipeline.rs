//! The archive's compression on a thread of its own: the backend fetches and encodes the rows
//! while the thread deflates (or bzip2-compresses) what came before, so the two halves of an
//! export share the machine's cores, as the two halves of staging do (load/entity.rs). The thread
//! only writes the archive (PostgreSQL is never called from it); the channel holds a few chunks,
//! so memory stays bounded.

use std::io::{self, Seek, Write};
use std::sync::mpsc::{sync_channel, SyncSender};

use crate::archive::write::ArchiveWriter;
use crate::error::{LoadError, LoadResult};

/// Bytes handed to the thread at a time, and how many may wait.
const CHUNK_BYTES: usize = 256 * 1024;
const CHUNKS_IN_FLIGHT: usize = 8;

enum Chunk {
    Member(String),
    Data(Vec<u8>),
}

/// What the export writes into: members started and their bytes, sent to the compressing thread.
pub struct Pipeline {
    sender: SyncSender<Chunk>,
    buffer: Vec<u8>,
}

fn stopped() -> io::Error {
    io::Error::other("the archive's writing thread stopped")
}

impl Pipeline {
    pub fn start_member(&mut self, name: &str) -> io::Result<()> {
        self.send_buffer()?;
        self.sender
            .send(Chunk::Member(name.to_string()))
            .map_err(|_| stopped())
    }

    fn send_buffer(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_BYTES));
        self.sender.send(Chunk::Data(chunk)).map_err(|_| stopped())
    }
}

impl Write for Pipeline {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK_BYTES {
            self.send_buffer()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_buffer()
    }
}

/// Runs `produce` with a Pipeline whose bytes a thread writes into `archive`; the archive holds
/// all of them when it returns. An error of `produce` comes first, then the thread's.
pub fn with_writing_thread<W: Write + Seek + Send, T>(
    archive: &mut ArchiveWriter<W>,
    produce: impl FnOnce(&mut Pipeline) -> LoadResult<T>,
) -> LoadResult<T> {
    std::thread::scope(|scope| {
        let (sender, receiver) = sync_channel::<Chunk>(CHUNKS_IN_FLIGHT);
        let writer = std::thread::Builder::new()
            .name("sinp_import archive writer".to_string())
            .spawn_scoped(scope, move || -> io::Result<()> {
                for chunk in receiver {
                    match chunk {
                        Chunk::Member(name) => archive.start_member(&name)?,
                        Chunk::Data(bytes) => archive.write_all(&bytes)?,
                    }
                }
                Ok(())
            })
            .map_err(|e| LoadError::internal(format!("no archive writing thread: {e}")))?;
        // Dropped when produce returns or unwinds (an ERROR): the thread then ends.
        let mut pipeline = Pipeline {
            sender,
            buffer: Vec::with_capacity(CHUNK_BYTES),
        };
        let produced = produce(&mut pipeline);
        let flushed = pipeline.send_buffer();
        drop(pipeline);
        let written = writer.join();
        let produced = produced?;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                return Err(LoadError::Io {
                    what: "the export's archive".into(),
                    detail: e.to_string(),
                })
            }
            Err(_) => return Err(LoadError::internal("the archive writing thread panicked")),
        }
        flushed.map_err(|e| LoadError::Io {
            what: "the export's archive".into(),
            detail: e.to_string(),
        })?;
        Ok(produced)
    })
}
