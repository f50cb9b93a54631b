//! Webpay's commerce code and API key when they are not in the
//! environment: a superuser saves them in the admin, the key sealed
//! (AES-256-GCM) under a key derived from `SECRET_KEY` (HKDF-SHA256), and
//! never shown again but for its last four characters. The environment
//! wins: with `TRANSBANK_COMMERCE_CODE` and `TRANSBANK_API_KEY` set (or the
//! sandbox on) the stored ones are not read.

use std::sync::Arc;

use base64::{engine::general_purpose::STANDARD, Engine as _};
use ring::{
    aead::{self, Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN},
    hkdf,
    rand::{SecureRandom, SystemRandom},
};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};

use super::webpay::Webpay;
use crate::{models::sql::statement, platform::settings::Transbank};

/// The sealed form's version, first in what is stored.
const VERSION: &str = "v1:";
/// Binds a sealed value to its use.
const AAD: &[u8] = b"tuki webpay api key";

/// The message payments answer with while Webpay has no credentials.
pub const NOT_CONFIGURED: &str =
    "Los pagos no están disponibles: Webpay aún no está configurado en Tuki. Inténtalo más tarde.";

fn key(secret: &str) -> Option<LessSafeKey> {
    let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, b"tuki payment settings");
    let prk = salt.extract(secret.as_bytes());
    let okm = prk.expand(&[b"webpay api key v1"], &AES_256_GCM).ok()?;
    let mut bytes = [0u8; 32];
    okm.fill(&mut bytes).ok()?;
    UnboundKey::new(&AES_256_GCM, &bytes)
        .ok()
        .map(LessSafeKey::new)
}

/// `plain` sealed under `secret`: `v1:` and base64 of nonce, ciphertext
/// and tag. `None` only if the system's random source fails.
#[must_use]
pub fn seal(secret: &str, plain: &str) -> Option<String> {
    let key = key(secret)?;
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new().fill(&mut nonce).ok()?;
    let mut data = plain.as_bytes().to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(AAD),
        &mut data,
    )
    .ok()?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&data);
    Some(format!("{VERSION}{}", STANDARD.encode(out)))
}

/// What [`seal`] sealed, if `secret` is the key it was sealed with.
#[must_use]
pub fn open(secret: &str, sealed: &str) -> Option<String> {
    let raw = STANDARD.decode(sealed.strip_prefix(VERSION)?).ok()?;
    if raw.len() < NONCE_LEN + aead::MAX_TAG_LEN {
        return None;
    }
    let (nonce, data) = raw.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut data = data.to_vec();
    let plain = key(secret)?
        .open_in_place(nonce, Aad::from(AAD), &mut data)
        .ok()?;
    String::from_utf8(plain.to_vec()).ok()
}

/// `••••1234`: what the admin shows of a key.
#[must_use]
pub fn hint(key: &str) -> String {
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("••••{tail}")
}

/// Where the Webpay client's credentials come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `TRANSBANK_COMMERCE_CODE` and `TRANSBANK_API_KEY`, or the sandbox.
    Environment,
    /// Saved in the admin.
    Admin,
    /// Nowhere yet: payments answer 503.
    Missing,
}

/// The payment gateway: the Webpay client of the environment's
/// credentials, or one of the admin's (read on each use, so every instance
/// follows a change at once).
pub struct Gateway {
    fixed: Option<Arc<Webpay>>,
    settings: Transbank,
    /// `SECRET_KEY`, then `SECRET_KEY_FALLBACKS`.
    secrets: Vec<String>,
    /// The client of the stored credentials last read, by what was stored.
    cached: std::sync::Mutex<Option<(String, String, Arc<Webpay>)>>,
}

#[derive(FromQueryResult)]
struct Stored {
    id: uuid::Uuid,
    commerce_code: String,
    api_key_sealed: String,
}

impl Gateway {
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(
        settings: &Transbank,
        secret: &str,
        fallbacks: &[String],
    ) -> Result<Self, super::webpay::WebpayError> {
        let fixed = if settings.commerce_code.is_empty() || settings.api_key.is_empty() {
            None
        } else {
            Some(Arc::new(Webpay::new(settings)?))
        };
        let mut secrets = vec![secret.to_string()];
        secrets.extend(fallbacks.iter().cloned());
        Ok(Self {
            fixed,
            settings: settings.clone(),
            secrets,
            cached: std::sync::Mutex::new(None),
        })
    }

    /// The credentials come from the environment.
    #[must_use]
    pub const fn from_environment(&self) -> bool {
        self.fixed.is_some()
    }

    /// The client to pay with now, and where its credentials came from.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn webpay<C: ConnectionTrait>(
        &self,
        db: &C,
    ) -> Result<(Option<Arc<Webpay>>, Source), DbErr> {
        if let Some(w) = &self.fixed {
            return Ok((Some(w.clone()), Source::Environment));
        }
        let Some(stored) = Self::stored(db).await? else {
            return Ok((None, Source::Missing));
        };
        if let Ok(cached) = self.cached.lock() {
            if let Some((code, sealed, webpay)) = cached.as_ref() {
                if *code == stored.commerce_code && *sealed == stored.api_key_sealed {
                    return Ok((Some(webpay.clone()), Source::Admin));
                }
            }
        }
        let Some((api_key, by)) = self.open(&stored.api_key_sealed) else {
            tracing::error!(
                "the Webpay API key saved in the admin opens with neither SECRET_KEY nor SECRET_KEY_FALLBACKS; save it again"
            );
            return Ok((None, Source::Missing));
        };
        let mut sealed_now = stored.api_key_sealed.clone();
        if by > 0 {
            // Sealed under an earlier key: sealed again under SECRET_KEY
            // (if nobody changed it meanwhile).
            if let Some(resealed) = seal(&self.secrets[0], &api_key) {
                db.execute_raw(statement(
                    db.get_database_backend(),
                    "UPDATE payment_settings SET api_key_sealed = $1 \
                     WHERE id = $2 AND api_key_sealed = $3",
                    [
                        resealed.clone().into(),
                        stored.id.into(),
                        stored.api_key_sealed.clone().into(),
                    ],
                ))
                .await?;
                tracing::info!(
                    "the Webpay API key saved in the admin was sealed again under SECRET_KEY"
                );
                sealed_now = resealed;
            }
        }
        let settings = Transbank {
            commerce_code: stored.commerce_code.clone(),
            api_key,
            ..self.settings.clone()
        };
        match Webpay::new(&settings) {
            Ok(w) => {
                let w = Arc::new(w);
                if let Ok(mut cached) = self.cached.lock() {
                    *cached = Some((stored.commerce_code, sealed_now, w.clone()));
                }
                Ok((Some(w), Source::Admin))
            }
            Err(e) => {
                tracing::error!(error = %e, "Webpay client");
                Ok((None, Source::Missing))
            }
        }
    }

    /// The stored credentials, if complete.
    async fn stored<C: ConnectionTrait>(db: &C) -> Result<Option<Stored>, DbErr> {
        Stored::find_by_statement(statement(
            db.get_database_backend(),
            "SELECT id, commerce_code, api_key_sealed FROM payment_settings \
             WHERE slot = 'webpay' AND commerce_code <> '' AND api_key_sealed <> ''",
            [],
        ))
        .one(db)
        .await
    }

    /// The key and which secret opened it (0: `SECRET_KEY`).
    fn open(&self, sealed: &str) -> Option<(String, usize)> {
        self.secrets
            .iter()
            .enumerate()
            .find_map(|(n, secret)| open(secret, sealed).map(|key| (key, n)))
    }

    /// Whether credentials are saved in the admin that no secret opens.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn stored_unreadable<C: ConnectionTrait>(&self, db: &C) -> Result<bool, DbErr> {
        Ok(Self::stored(db)
            .await?
            .is_some_and(|s| self.open(&s.api_key_sealed).is_none()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_with_its_secret_only() {
        let sealed = seal("secret-one-0123456789", "clave-de-prueba-0123456789abcdef").unwrap();
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("clave-de"));
        assert_eq!(
            open("secret-one-0123456789", &sealed).as_deref(),
            Some("clave-de-prueba-0123456789abcdef")
        );
        assert_eq!(open("secret-two-0123456789", &sealed), None);
        // Two seals of one key differ (a fresh nonce each).
        assert_ne!(
            sealed,
            seal("secret-one-0123456789", "clave-de-prueba-0123456789abcdef").unwrap()
        );
        // Tampered or foreign values do not open.
        let mut bytes = sealed.into_bytes();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            open("secret-one-0123456789", &String::from_utf8(bytes).unwrap()),
            None
        );
        assert_eq!(open("secret-one-0123456789", "v1:"), None);
        assert_eq!(open("secret-one-0123456789", "plain"), None);
        assert_eq!(hint("abcdef123456"), "••••3456");
    }
}
