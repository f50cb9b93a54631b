//! Password hashes: argon2id for everything written here, and verification of
//! the `pbkdf2_sha256$…` (and `argon2$…`) hashes Django wrote, so accounts
//! imported from the Django database keep working after the cut-over and are
//! upgraded to argon2id on their next successful login.

//!
//! Hashing is deliberately slow, so it never runs on the async workers and
//! never runs unbounded: [`hash_async`] and [`verify_async`] take one of a few
//! permits (one per CPU) and run on dedicated hashing threads at a lower CPU
//! priority than the request workers; a short queue waits for a permit, and a
//! caller beyond it is told at once that the server is busy ([`Busy`], a 503
//! with `Retry-After`) instead of piling up work and memory.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, LazyLock,
    },
    time::Duration,
};

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};
use base64::{engine::general_purpose::STANDARD, Engine as _};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Correct, but stored in a legacy format: re-hash it with [`hash`].
    YesNeedsRehash,
}

impl Verified {
    #[must_use]
    pub const fn ok(self) -> bool {
        !matches!(self, Self::No)
    }
}

/// argon2id with OWASP's minimum for a server: 19 MiB of memory, 2 passes,
/// 1 lane. Chosen for Cloud Run's 1 vCPU / 1 GiB: one hash takes tens of
/// milliseconds of one core and 19 MiB while it runs; with one permit per
/// CPU the memory of hashing stays under 20 MiB per core whatever the load
/// (`bench/passwords.sh` measures it under a sign-up storm).
pub const MEMORY_KIB: u32 = 19 * 1024;
pub const PASSES: u32 = 2;
pub const LANES: u32 = 1;

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password with argon2id ([`MEMORY_KIB`], [`PASSES`], [`LANES`]).
/// Blocking: call [`hash_async`] from async code.
///
/// # Errors
/// Only if the hasher rejects its own parameters, which these never are.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(hasher()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// The server is hashing as much as it can: try again in a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("password hashing is at capacity; retry shortly")]
pub struct Busy;

/// How many callers may wait for a permit, per permit.
const QUEUE_PER_PERMIT: usize = 32;
/// How long a caller waits for a permit before it is told to retry.
const MAX_WAIT: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce() + Send>;

/// Admission (one permit per hashing thread, a short queue) and the hashing
/// threads themselves.
struct Gate {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
    jobs: std::sync::mpsc::Sender<Job>,
}

impl Gate {
    /// `threads` hashing threads, each at a lower CPU priority (nice 10) than
    /// the request workers: while hashing saturates the CPU, everything else
    /// the server does still gets most of it.
    fn new(threads: usize, max_waiting: usize) -> Self {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for i in 0..threads {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || {
                    // Linux: the calling thread's own nice value.
                    // SAFETY: a plain syscall on this thread, no pointers.
                    unsafe {
                        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
                    }
                    loop {
                        let job = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        Self {
            permits: Arc::new(Semaphore::new(threads)),
            waiting: AtomicUsize::new(0),
            max_waiting,
            jobs,
        }
    }
}

static GATE: LazyLock<Gate> = LazyLock::new(|| {
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    Gate::new(cpus, cpus * QUEUE_PER_PERMIT)
});

/// Whether a hash asked for now would be refused: callers check it before
/// doing any other work for a request that needs one.
#[must_use]
pub fn at_capacity() -> bool {
    GATE.permits.available_permits() == 0
        && GATE.waiting.load(Ordering::Acquire) >= GATE.max_waiting
}

/// Counts a waiting caller for as long as it waits (also when its request is
/// dropped meanwhile).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Runs `work` on a hashing thread under one of the gate's permits.
async fn gated<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
    gated_on(&GATE, work).await
}

async fn gated_on<T: Send + 'static>(
    gate: &Gate,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Busy> {
    let permit = if let Ok(p) = gate.permits.clone().try_acquire_owned() {
        p
    } else {
        if gate.waiting.fetch_add(1, Ordering::AcqRel) >= gate.max_waiting {
            gate.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(Busy);
        }
        let _waiting = Waiting(&gate.waiting);
        match tokio::time::timeout(MAX_WAIT, gate.permits.clone().acquire_owned()).await {
            Ok(Ok(p)) => p,
            _ => return Err(Busy),
        }
    };
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        // The permit is held until the work is done, even if the caller left.
        let _permit = permit;
        let _ = done.send(work());
    });
    gate.jobs.send(job).map_err(|_| Busy)?;
    result.await.map_err(|_| Busy)
}

/// [`hash`] off the async workers, gated.
///
/// # Errors
/// [`HashError::Busy`] when the queue is full.
pub async fn hash_async(password: &str) -> Result<String, HashError> {
    let owned = password.to_string();
    gated(move || hash(&owned))
        .await
        .map_err(|_| HashError::Busy)?
        .map_err(|_| HashError::Failed)
}

/// Why no hash was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    #[error("password hashing is at capacity; retry shortly")]
    Busy,
    #[error("the password could not be hashed")]
    Failed,
}

/// [`verify`] off the async workers, gated.
///
/// # Errors
/// [`Busy`] when the queue is full.
pub async fn verify_async(password: &str, stored: &str) -> Result<Verified, Busy> {
    let (password, stored) = (password.to_string(), stored.to_string());
    gated(move || verify(&password, &stored)).await
}

/// Checks `password` against a stored hash in any supported format. Unknown
/// formats (Django's `!` unusable password among them) never verify.
#[must_use]
pub fn verify(password: &str, stored: &str) -> Verified {
    if let Some(rest) = stored.strip_prefix("pbkdf2_sha256$") {
        return if verify_django_pbkdf2(password, rest) {
            Verified::YesNeedsRehash
        } else {
            Verified::No
        };
    }
    // Django's Argon2PasswordHasher prefixes the PHC string with `argon2`.
    let (phc, legacy) = stored
        .strip_prefix("argon2$")
        .map_or((stored, false), |rest| (rest, true));
    let Ok(parsed) = PasswordHash::new(phc) else {
        return Verified::No;
    };
    // The stored hash carries its own parameters; a crafted one must not
    // turn one check into gigabytes or minutes.
    if parsed
        .params
        .get_decimal("m")
        .is_some_and(|m| m > 256 * 1024)
        || parsed.params.get_decimal("t").is_some_and(|t| t > 16)
        || parsed.params.get_decimal("p").is_some_and(|p| p > 8)
    {
        return Verified::No;
    }
    if Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_err()
    {
        return Verified::No;
    }
    let current = parsed.params.get_decimal("m") == Some(MEMORY_KIB)
        && parsed.params.get_decimal("t") == Some(PASSES)
        && parsed.params.get_decimal("p") == Some(LANES);
    if legacy || parsed.algorithm.as_str() != "argon2id" || !current {
        Verified::YesNeedsRehash
    } else {
        Verified::Yes
    }
}

/// `<iterations>$<salt>$<base64 PBKDF2-HMAC-SHA256, 32 bytes>`.
fn verify_django_pbkdf2(password: &str, rest: &str) -> bool {
    let mut parts = rest.splitn(3, '$');
    let (Some(iterations), Some(salt), Some(expected)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Ok(iterations) = iterations.parse::<u32>() else {
        return false;
    };
    // Django never wrote fewer than 10,000 rounds; a bound keeps a crafted hash
    // from turning one login into minutes of CPU.
    if !(1..=10_000_000).contains(&iterations) {
        return false;
    }
    let Ok(expected) = STANDARD.decode(expected) else {
        return false;
    };
    let mut derived = vec![0u8; expected.len().clamp(1, 64)];
    pbkdf2::pbkdf2_hmac::<Sha256>(
        password.as_bytes(),
        salt.as_bytes(),
        iterations,
        &mut derived,
    );
    derived.ct_eq(&expected).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_round_trips() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert_eq!(verify("correct horse", &h), Verified::Yes);
        assert_eq!(verify("wrong", &h), Verified::No);
    }

    #[test]
    fn django_pbkdf2_sha256_hashes_verify_and_ask_for_an_upgrade() {
        // Django's format, built with the same primitive at few rounds to stay fast.
        let mut derived = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(b"s3cret!", b"abcdefgh12345678", 1000, &mut derived);
        let stored = format!(
            "pbkdf2_sha256$1000$abcdefgh12345678${}",
            STANDARD.encode(derived)
        );
        assert_eq!(verify("s3cret!", &stored), Verified::YesNeedsRehash);
        assert_eq!(verify("s3cret?", &stored), Verified::No);
    }

    #[test]
    fn a_known_django_vector_verifies() {
        // Django's own test vector (auth_tests.test_hashers): pbkdf2_sha256 with
        // password "lètmein", salt "seasalt", 260000 iterations.
        let stored = "pbkdf2_sha256$260000$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo=";
        assert_eq!(verify("lètmein", stored), Verified::YesNeedsRehash);
        assert_eq!(verify("letmein", stored), Verified::No);
    }

    #[tokio::test]
    async fn the_gate_hashes_off_the_workers_and_verifies() {
        let h = hash_async("correct horse").await.unwrap();
        assert_eq!(
            verify_async("correct horse", &h).await.unwrap(),
            Verified::Yes
        );
        assert_eq!(verify_async("wrong", &h).await.unwrap(), Verified::No);
    }

    #[tokio::test]
    async fn past_the_queue_callers_are_told_to_retry_at_once() {
        let gate = Gate::new(1, 2);
        let slow = || {
            gated_on(&gate, || {
                std::thread::sleep(Duration::from_millis(150));
                1
            })
        };
        let started = std::time::Instant::now();
        let results = futures_util::future::join_all((0..6).map(|_| slow())).await;
        let busy = results.iter().filter(|r| r.is_err()).count();
        // One runs, two wait their turn, three are refused without waiting.
        assert_eq!(busy, 3, "{results:?}");
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 3);
        assert!(started.elapsed() >= Duration::from_millis(450));
        assert_eq!(gate.waiting.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_crafted_costly_hash_is_refused_without_running_it() {
        let costly = "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
        assert_eq!(verify("x", costly), Verified::No);
    }

    #[test]
    fn malformed_and_unusable_hashes_never_verify() {
        for stored in [
            "",
            "!",
            "!unusable",
            "pbkdf2_sha256$x$salt$abc",
            "pbkdf2_sha256$1000$salt",
            "md5$a$b",
            "pbkdf2_sha256$0$s$AAAA",
        ] {
            assert_eq!(verify("anything", stored), Verified::No, "{stored}");
        }
    }
}
