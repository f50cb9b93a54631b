//! Password hashes: argon2id for everything written here, and verification of
//! the `pbkdf2_sha256$…` (and `argon2$…`) hashes Django wrote, so accounts
//! imported from the Django database keep working after the cut-over and are
//! upgraded to argon2id on their next successful login.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use base64::{engine::general_purpose::STANDARD, Engine as _};
use sha2::Sha256;
use subtle::ConstantTimeEq;

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

/// Hashes a password with argon2id (the crate's defaults: OWASP's m=19 MiB, t=2, p=1).
///
/// # Errors
/// Only if the hasher rejects its own parameters, which the defaults never are.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
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
    if Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_err()
    {
        return Verified::No;
    }
    if legacy || parsed.algorithm.as_str() != "argon2id" {
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
        assert!(h.starts_with("$argon2id$"));
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
