//! Password hashing and checking with a fixed set of reusable Argon2 memory buffers.
//!
//! Argon2id with the default parameters works through 19 MiB of memory per hash. Allocated afresh
//! for every hash, that memory did not go back to the system: after the first such buffer is freed,
//! glibc raises its dynamic mmap threshold past 19 MiB, so later buffers come from the per-thread
//! arenas of the blocking pool and stay resident once freed — 32 sign-ins at once left 100–470 MB
//! behind. Here the hashing runs under one permit per core and each permit holder borrows one of at
//! most N buffers (N = the permits), made on first need and then reused, so hashing holds at most
//! N × 19 MiB however many people sign in, change passwords or are created at once.
//!
//! The strings are the standard PHC form that `Argon2::default().hash_password` gives
//! (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`): hashes stored earlier verify here, and hashes made
//! here verify with the argon2 crate's own checker. This module is the only place that makes or
//! reads them; the one-shot `auth::hash_password` (the CLI) calls the same functions with a
//! buffer of its own.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::password_hash::try_generate_salt;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

use super::{AppError, AppResult};

/// The most memory (KiB) a stored hash may ask for. Ours ask for 19 MiB; a stored hash asking for
/// more than this is treated as not matching rather than let it make every pooled buffer that big.
const MAX_M_COST_KIB: u32 = 64 * 1024;
/// The most passes a stored hash may ask for (ours: 2), so that one odd row cannot hold a core.
const MAX_T_COST: u32 = 10;
/// The most lanes a stored hash may ask for (ours: 1); lanes run one after another here.
const MAX_P_COST: u32 = 8;

/// The server's password hashing: at most one hashing per permit at a time, each in one of at most
/// as many reusable memory buffers. Cheap to clone; clones share the permits and the buffers.
#[derive(Clone)]
pub struct PasswordWork {
    permits: Arc<Semaphore>,
    pool: Arc<Pool>,
}

/// The idle buffers, and how many were ever made (for tests and the `Debug` view).
#[derive(Default)]
struct Pool {
    idle: Mutex<Vec<Vec<Block>>>,
    made: AtomicUsize,
}

impl Pool {
    /// An idle buffer, or a new empty one if none is idle (it grows to size when first used).
    /// A permit is held while a buffer is out, so no more buffers are made than there are permits.
    fn take(&self) -> Vec<Block> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        idle.unwrap_or_else(|| {
            self.made.fetch_add(1, Ordering::Relaxed);
            Vec::new()
        })
    }

    /// Returns a buffer for reuse. One grown for a stored hash that asked for more than our
    /// parameters is cut back, so that the pool's size stays N × 19 MiB.
    fn give_back(&self, mut buffer: Vec<Block>) {
        let standard = Params::DEFAULT.block_count();
        if buffer.capacity() > standard {
            buffer.truncate(standard);
            buffer.shrink_to_fit();
        }
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(buffer);
    }
}

impl PasswordWork {
    /// Hashing with `permits` hashings at once (at least one) and as many buffers at most.
    #[must_use]
    pub fn new(permits: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(permits.max(1))),
            pool: Arc::default(),
        }
    }

    /// One hashing per core: Argon2 is CPU-bound, so more at once would only queue in the
    /// blocking pool while each held its 19 MiB.
    #[must_use]
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get))
    }

    /// Hashes a password with argon2id, the default parameters and a fresh salt, as a PHC string.
    pub async fn hash(&self, password: &str) -> AppResult<String> {
        let password = password.to_owned();
        self.run(move |memory| hash_with_memory(&password, memory))
            .await?
    }

    /// Whether `password` matches the stored PHC string. A malformed hash, an algorithm other than
    /// Argon2, or parameters beyond the limits above give `false`, not an error.
    pub async fn verify(&self, password: &str, stored: &str) -> AppResult<bool> {
        let Some(stored) = StoredHash::parse(stored) else {
            return Ok(false);
        };
        let password = password.to_owned();
        self.run(move |memory| stored.matches(&password, memory))
            .await
    }

    /// How many buffers this service has ever made: never more than its permits.
    #[must_use]
    pub fn buffers_made(&self) -> usize {
        self.pool.made.load(Ordering::Relaxed)
    }

    /// Runs `work` on the blocking pool with a permit and a borrowed buffer. The permit moves into
    /// the blocking task and is released only after the buffer is back: if the caller's future is
    /// dropped mid-hash (a client gone), the work still finishes, and no other task can take the
    /// permit and make an extra buffer meanwhile.
    async fn run<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        let pool = Arc::clone(&self.pool);
        tokio::task::spawn_blocking(move || {
            let mut memory = pool.take();
            let outcome = work(&mut memory);
            pool.give_back(memory);
            drop(permit);
            outcome
        })
        .await
        .map_err(|e| AppError::Internal(e.into()))
    }
}

impl fmt::Debug for PasswordWork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordWork")
            .field("available_permits", &self.permits.available_permits())
            .field("buffers_made", &self.buffers_made())
            .finish()
    }
}

/// Hashes `password` with argon2id, the default parameters and a fresh salt, working in `memory`
/// (grown to the 19 MiB needed if smaller). The PHC string is built field by field exactly as the
/// argon2 crate's `hash_password` builds it.
pub fn hash_with_memory(password: &str, memory: &mut Vec<Block>) -> AppResult<String> {
    fn failed(e: impl fmt::Display) -> AppError {
        AppError::Internal(anyhow::anyhow!("hashing a password: {e}"))
    }
    let argon2 = Argon2::default();
    let params = argon2.params();
    let salt = Salt::new(&try_generate_salt().map_err(failed)?).map_err(failed)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2
        .hash_password_into_with_memory(
            password.as_bytes(),
            &salt,
            &mut out,
            sized(memory, params.block_count()),
        )
        .map_err(failed)?;
    let hash = PasswordHash {
        algorithm: Algorithm::default().ident(),
        version: Some(Version::default().into()),
        params: ParamsString::try_from(params).map_err(failed)?,
        salt: Some(salt),
        hash: Some(Output::new(&out).map_err(failed)?),
    };
    Ok(hash.to_string())
}

/// Whether `password` matches the stored PHC string, working in `memory` (grown if the stored
/// parameters need more). `false` for anything [`PasswordWork::verify`] rejects.
#[must_use]
pub fn verify_with_memory(password: &str, stored: &str, memory: &mut Vec<Block>) -> bool {
    StoredHash::parse(stored).is_some_and(|stored| stored.matches(password, memory))
}

/// A stored hash taken apart: the hasher its algorithm, version and parameters describe, its salt
/// and the output to compare against.
struct StoredHash {
    argon2: Argon2<'static>,
    salt: Salt,
    expected: Output,
}

impl StoredHash {
    /// `None` for a string that is not an Argon2 PHC string with a salt and an output, or whose
    /// parameters are beyond the limits above.
    fn parse(stored: &str) -> Option<Self> {
        let hash = PasswordHash::new(stored).ok()?;
        let algorithm = Algorithm::try_from(hash.algorithm.as_str()).ok()?;
        let version = match hash.version {
            Some(version) => Version::try_from(version).ok()?,
            None => Version::default(),
        };
        // The output length comes from the stored output, as the argon2 crate's verifier does.
        let params = Params::try_from(&hash).ok()?;
        if params.m_cost() > MAX_M_COST_KIB
            || params.t_cost() > MAX_T_COST
            || params.p_cost() > MAX_P_COST
        {
            return None;
        }
        Some(Self {
            argon2: Argon2::new(algorithm, version, params),
            salt: hash.salt?,
            expected: hash.hash?,
        })
    }

    /// Computes the hash of `password` under the stored parameters and compares it with the
    /// stored output in constant time (`Output`'s equality).
    fn matches(&self, password: &str, memory: &mut Vec<Block>) -> bool {
        let mut out = [0u8; Output::MAX_LENGTH];
        let Some(out) = out.get_mut(..self.expected.len()) else {
            return false;
        };
        let blocks = self.argon2.params().block_count();
        self.argon2
            .hash_password_into_with_memory(
                password.as_bytes(),
                &self.salt,
                out,
                sized(memory, blocks),
            )
            .is_ok()
            && Output::new(out).is_ok_and(|computed| computed == self.expected)
    }
}

/// `memory` with at least `blocks` blocks, grown to exactly that if it had fewer. Argon2 uses the
/// first `blocks` and overwrites each before reading it, so what a larger or reused buffer held
/// does not matter.
fn sized(memory: &mut Vec<Block>, blocks: usize) -> &mut [Block] {
    if memory.len() < blocks {
        memory.reserve_exact(blocks - memory.len());
        memory.resize(blocks, Block::new());
    }
    memory.as_mut_slice()
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    use super::*;

    /// What the argon2 crate itself says of `password` against `stored`.
    fn crate_verifies(password: &str, stored: &str) -> bool {
        PasswordHash::new(stored).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
    }

    #[tokio::test]
    async fn pooled_hashes_are_standard_and_verify_with_the_crate() {
        let work = PasswordWork::new(1);
        let hash = work.hash("correct horse").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        let reference = Argon2::default()
            .hash_password(b"correct horse")
            .unwrap()
            .to_string();
        // Same shape: six `$`-separated fields, salt and output of the same lengths.
        let fields = |s: &str| s.split('$').map(str::len).collect::<Vec<_>>();
        assert_eq!(fields(&hash), fields(&reference));
        assert!(crate_verifies("correct horse", &hash));
        assert!(!crate_verifies("wrong horse", &hash));
        assert_eq!(work.buffers_made(), 1);
    }

    #[tokio::test]
    async fn crate_hashes_verify_with_the_pool() {
        let work = PasswordWork::new(1);
        let stored = Argon2::default()
            .hash_password(b"correct horse")
            .unwrap()
            .to_string();
        assert!(work.verify("correct horse", &stored).await.unwrap());
        assert!(!work.verify("wrong horse", &stored).await.unwrap());
        assert!(!work.verify("", &stored).await.unwrap());
    }

    #[tokio::test]
    async fn malformed_and_foreign_hashes_do_not_verify() {
        let work = PasswordWork::new(1);
        let good = work.hash("correct horse").await.unwrap();
        let cases = [
            String::new(),
            "not a hash".to_owned(),
            "$argon2id$v=19$m=19456,t=2,p=1".to_owned(),
            good.replacen("argon2id", "scrypt", 1),
            good.replacen("argon2id", "argon2x", 1),
            good.replacen("v=19", "v=18", 1),
            good.replacen("m=19456", "m=4", 1),
            good.replacen("m=19456", "m=1048576", 1),
            good.replacen("t=2", "t=0", 1),
            good.replacen("t=2", "t=1000", 1),
            good.replacen("p=1", "p=64", 1),
            // Cut: no output, then a truncated output.
            good.rsplit_once('$')
                .map(|(head, _)| head.to_owned())
                .unwrap_or_default(),
            good.get(..good.len() - 30).unwrap_or_default().to_owned(),
            "$pbkdf2-sha256$i=1000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned(),
        ];
        for stored in &cases {
            assert!(
                !work.verify("correct horse", stored).await.unwrap(),
                "{stored}"
            );
            assert!(!verify_with_memory(
                "correct horse",
                stored,
                &mut Vec::new()
            ));
        }
    }

    #[tokio::test]
    async fn other_parameters_verify_in_a_resized_buffer() {
        let work = PasswordWork::new(1);
        // Warm the one buffer at the standard size first.
        let ours = work.hash("correct horse").await.unwrap();
        for (m, t, p) in [(8192, 1, 1), (32 * 1024, 1, 1), (8192, 3, 2)] {
            let params = Params::new(m, t, p, None).unwrap();
            let stored = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                .hash_password(b"correct horse")
                .unwrap()
                .to_string();
            assert!(
                work.verify("correct horse", &stored).await.unwrap(),
                "{stored}"
            );
            assert!(
                !work.verify("wrong horse", &stored).await.unwrap(),
                "{stored}"
            );
        }
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x10, Params::default())
            .hash_password(b"correct horse")
            .unwrap()
            .to_string();
        assert!(work.verify("correct horse", &argon2i).await.unwrap());
        // The standard hash still verifies in the buffer that was grown and cut back.
        assert!(work.verify("correct horse", &ours).await.unwrap());
        assert_eq!(work.buffers_made(), 1);
        let idle = work.pool.idle.lock().unwrap();
        assert_eq!(idle.len(), 1);
        assert!(
            idle.iter()
                .all(|b| b.capacity() == Params::DEFAULT.block_count())
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn many_tasks_share_at_most_n_buffers() {
        const PERMITS: usize = 2;
        let work = PasswordWork::new(PERMITS);
        let stored = work.hash("correct horse").await.unwrap();
        let tasks: Vec<_> = (0..12)
            .map(|i| {
                let (work, stored) = (work.clone(), stored.clone());
                tokio::spawn(async move {
                    if i % 2 == 0 {
                        work.verify("correct horse", &stored).await.unwrap()
                    } else {
                        let hash = work.hash("another horse").await.unwrap();
                        crate_verifies("another horse", &hash)
                    }
                })
            })
            .collect();
        for task in tasks {
            assert!(task.await.unwrap());
        }
        assert!(work.buffers_made() <= PERMITS, "{}", work.buffers_made());
        assert!(work.buffers_made() >= 1);
    }

    #[tokio::test]
    async fn dropped_callers_do_not_leak_permits_or_buffers() {
        let work = PasswordWork::new(1);
        let stored = work.hash("correct horse").await.unwrap();
        // Start a verification and drop it before it finishes: the blocking work goes on holding
        // the permit, so the next one waits for it rather than making a second buffer.
        let abandoned = tokio::time::timeout(
            std::time::Duration::from_millis(1),
            work.verify("correct horse", &stored),
        )
        .await;
        drop(abandoned);
        assert!(work.verify("correct horse", &stored).await.unwrap());
        assert_eq!(work.buffers_made(), 1);
    }
}
