//! Reading another process's memory, and a fake memory for tests that lay
//! out interpreter structs in a buffer.

use thiserror::Error;

/// A read of target memory that failed.
#[derive(Debug, Error)]
#[error("cannot read {len} bytes at {address:#x} in process {pid}: {source}")]
pub struct MemoryError {
    pub pid: u32,
    pub address: u64,
    pub len: usize,
    #[source]
    pub source: std::io::Error,
}

/// The page size of x86_64, the granularity of mappings.
const PAGE_SIZE: u64 = 4096;

/// Reads bytes from an address space.
pub trait MemoryReader {
    /// Fills `buffer` from `address`, entirely or not at all.
    fn read_into(&self, address: u64, buffer: &mut [u8]) -> Result<(), MemoryError>;

    fn read_vec(&self, address: u64, len: usize) -> Result<Vec<u8>, MemoryError> {
        let mut buffer = vec![0; len];
        self.read_into(address, &mut buffer)?;
        Ok(buffer)
    }

    /// Up to `len` bytes from `address`, fewer when a page on the way is
    /// not mapped: a struct near the end of its mapping is read whole even
    /// though a read of `len` bytes would cross into nothing. Fails only
    /// when the first byte is unreadable.
    fn read_up_to(&self, address: u64, len: usize) -> Result<Vec<u8>, MemoryError> {
        let mut bytes = Vec::with_capacity(len);
        let mut next = address;
        while bytes.len() < len {
            let to_page_end = PAGE_SIZE - next % PAGE_SIZE;
            let chunk = (len - bytes.len()).min(to_page_end as usize);
            match self.read_vec(next, chunk) {
                Ok(read) => bytes.extend_from_slice(&read),
                Err(error) if bytes.is_empty() => return Err(error),
                Err(_) => break,
            }
            next += chunk as u64;
        }
        Ok(bytes)
    }

    fn read_u64(&self, address: u64) -> Result<u64, MemoryError> {
        let mut bytes = [0; 8];
        self.read_into(address, &mut bytes)?;
        Ok(u64::from_le_bytes(bytes))
    }

    fn read_u32(&self, address: u64) -> Result<u32, MemoryError> {
        let mut bytes = [0; 4];
        self.read_into(address, &mut bytes)?;
        Ok(u32::from_le_bytes(bytes))
    }

    fn read_i32(&self, address: u64) -> Result<i32, MemoryError> {
        self.read_u32(address).map(|value| value as i32)
    }

    fn read_u8(&self, address: u64) -> Result<u8, MemoryError> {
        let mut bytes = [0; 1];
        self.read_into(address, &mut bytes)?;
        Ok(bytes[0])
    }
}

/// The memory of a live process, read with process_vm_readv.
#[derive(Clone, Copy, Debug)]
pub struct ProcessMemory {
    pub pid: u32,
}

impl MemoryReader for ProcessMemory {
    fn read_into(&self, address: u64, buffer: &mut [u8]) -> Result<(), MemoryError> {
        let len = buffer.len();
        let error = |source| MemoryError {
            pid: self.pid,
            address,
            len,
            source,
        };
        let local = libc::iovec {
            iov_base: buffer.as_mut_ptr().cast(),
            iov_len: buffer.len(),
        };
        let remote = libc::iovec {
            iov_base: address as *mut libc::c_void,
            iov_len: buffer.len(),
        };
        // SAFETY: `local` covers exactly `buffer`, which is writable; the
        // kernel checks `remote` against the target's address space.
        let read = unsafe { libc::process_vm_readv(self.pid as i32, &local, 1, &remote, 1, 0) };
        if read < 0 {
            return Err(error(std::io::Error::last_os_error()));
        }
        if read as usize != len {
            return Err(error(std::io::Error::from(
                std::io::ErrorKind::UnexpectedEof,
            )));
        }
        Ok(())
    }
}

impl ProcessMemory {
    /// The 8-byte words at `addresses`, None where one is not mapped.
    /// Reads in batches of one system call per 1024 words. Fails as a whole
    /// when the address space cannot be read at all (the process exited,
    /// or is exiting, or may not be read): then no word says anything.
    pub fn read_words(&self, addresses: &[u64]) -> Result<Vec<Option<u64>>, MemoryError> {
        const BATCH: usize = 1024;
        let mut words = vec![None; addresses.len()];
        let mut start = 0;
        while start < addresses.len() {
            let batch = &addresses[start..(start + BATCH).min(addresses.len())];
            let mut buffer = vec![0u64; batch.len()];
            let local: Vec<libc::iovec> = buffer
                .iter_mut()
                .map(|word| libc::iovec {
                    iov_base: (word as *mut u64).cast(),
                    iov_len: 8,
                })
                .collect();
            let remote: Vec<libc::iovec> = batch
                .iter()
                .map(|&address| libc::iovec {
                    iov_base: address as *mut libc::c_void,
                    iov_len: 8,
                })
                .collect();
            // SAFETY: each local iovec covers one u64 of `buffer`; the kernel
            // checks the remote ones against the target's address space.
            let read = unsafe {
                libc::process_vm_readv(
                    self.pid as i32,
                    local.as_ptr(),
                    local.len() as libc::c_ulong,
                    remote.as_ptr(),
                    remote.len() as libc::c_ulong,
                    0,
                )
            };
            if read < 0 {
                let source = std::io::Error::last_os_error();
                if source.raw_os_error() != Some(libc::EFAULT) {
                    return Err(MemoryError {
                        pid: self.pid,
                        address: batch[0],
                        len: 8,
                        source,
                    });
                }
            }
            // The kernel stops at the first word it cannot read: skip it.
            let whole = if read > 0 { read as usize / 8 } else { 0 };
            for (index, word) in buffer.iter().take(whole).enumerate() {
                words[start + index] = Some(*word);
            }
            start += whole.max(1).min(batch.len());
        }
        Ok(words)
    }
}

/// Memory made of byte buffers placed at chosen addresses, for tests.
#[derive(Debug, Default)]
pub struct FakeMemory {
    regions: Vec<(u64, Vec<u8>)>,
}

impl FakeMemory {
    /// Places `bytes` at `address`.
    pub fn place(&mut self, address: u64, bytes: Vec<u8>) {
        self.regions.push((address, bytes));
    }
}

impl MemoryReader for FakeMemory {
    fn read_into(&self, address: u64, buffer: &mut [u8]) -> Result<(), MemoryError> {
        for (start, bytes) in &self.regions {
            let offset = address.wrapping_sub(*start) as usize;
            if address >= *start && offset + buffer.len() <= bytes.len() {
                buffer.copy_from_slice(&bytes[offset..offset + buffer.len()]);
                return Ok(());
            }
        }
        Err(MemoryError {
            pid: 0,
            address,
            len: buffer.len(),
            source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process_through_process_vm_readv() {
        let value: u64 = 0x1122_3344_5566_7788;
        let memory = ProcessMemory {
            pid: std::process::id(),
        };
        assert_eq!(memory.read_u64(&value as *const u64 as u64).unwrap(), value);
        assert!(memory.read_u64(8).is_err(), "page zero is never mapped");
    }

    #[test]
    fn words_are_read_in_batches_and_unreadable_ones_are_none() {
        let values: Vec<u64> = (0..3000).collect();
        let mut addresses: Vec<u64> = values
            .iter()
            .map(|value| value as *const u64 as u64)
            .collect();
        addresses[1500] = 8;
        let memory = ProcessMemory {
            pid: std::process::id(),
        };
        let words = memory.read_words(&addresses).unwrap();
        assert_eq!(words[0], Some(0));
        assert_eq!(words[1499], Some(1499));
        assert_eq!(words[1500], None);
        assert_eq!(words[2999], Some(2999));
    }

    #[test]
    fn words_of_a_process_that_is_gone_are_an_error_not_unmapped() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let value: u64 = 7;
        let error = ProcessMemory { pid }
            .read_words(&[&value as *const u64 as u64])
            .unwrap_err();
        assert_eq!(error.source.raw_os_error(), Some(libc::ESRCH));
    }

    #[test]
    fn fake_memory_reads_inside_regions_only() {
        let mut memory = FakeMemory::default();
        memory.place(0x1000, vec![1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(
            memory.read_u32(0x1004).unwrap(),
            u32::from_le_bytes([5, 6, 7, 8])
        );
        assert!(memory.read_u32(0x1006).is_err());
    }

    #[test]
    fn a_read_up_to_a_length_stops_at_the_first_unmapped_page() {
        let mut memory = FakeMemory::default();
        memory.place(0x1000, (0..0x2000u32).map(|byte| byte as u8).collect());
        let bytes = memory.read_up_to(0x2200, 0x1000).unwrap();
        assert_eq!(bytes.len(), 0xe00, "the rest of the mapping, no more");
        assert_eq!(bytes[0], 0x00);
        assert_eq!(bytes[1], 0x01);
        assert_eq!(memory.read_up_to(0x1100, 0x20).unwrap().len(), 0x20);
        assert!(memory.read_up_to(0x4000, 0x10).is_err());
    }
}
