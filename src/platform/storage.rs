//! Media storage (event images) through Loco's storage layer.
//!
//! Loco's storage is opendal underneath. Its ready-made drivers do not take an
//! endpoint or set an object's `Content-Type`, so the opendal services are built
//! here from [`Media`] and wrapped in [`MediaDriver`], a Loco `StoreDriver` that
//! delegates to Loco's own opendal adapter and adds the type and cache headers
//! on upload (public images served from a bucket need both).

use std::{path::Path, time::Duration};

use async_trait::async_trait;
use bytes::Bytes;
use loco_rs::storage::{
    drivers::{
        opendal_adapter::OpendalAdapter, GetResponse, ListEntry, StoreDriver, UploadResponse,
    },
    Storage, StorageResult,
};
use opendal::{layers::RetryLayer, Operator};

use crate::platform::settings::{Media, MediaBackend};

/// Stored files never change in place (a new upload gets a new name), so they
/// may be cached for a long time.
pub const MEDIA_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// The `Content-Type` for a stored file, from its extension.
#[must_use]
pub fn content_type_for(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map_or("", |(_, e)| e);
    match ext.to_ascii_lowercase().as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "pdf" => "application/pdf",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Builds the opendal operator for the configured backend.
///
/// # Errors
/// When opendal refuses the configuration (it does no I/O here).
pub fn operator(media: &Media) -> opendal::Result<Operator> {
    Ok(match &media.backend {
        MediaBackend::Local { root } => Operator::new(opendal::services::Fs::default().root(root))?,
        MediaBackend::Gcs {
            bucket,
            credentials_file,
            api_endpoint,
        } => {
            let mut gcs = opendal::services::Gcs::default().bucket(bucket);
            if let Some(path) = credentials_file {
                gcs = gcs.credential_path(path);
            }
            if let Some(endpoint) = api_endpoint {
                // A local emulator: no Google credentials exist or are needed.
                gcs = gcs
                    .endpoint(endpoint)
                    .skip_signature()
                    .disable_vm_metadata()
                    .disable_config_load();
            }
            // Otherwise opendal's default chain: GOOGLE_APPLICATION_CREDENTIALS,
            // then the metadata server (the Cloud Run service account).
            Operator::new(gcs)?
        }
        MediaBackend::GcsHmac {
            bucket,
            access_key_id,
            secret_access_key,
            endpoint,
        } => Operator::new(
            opendal::services::S3::default()
                .bucket(bucket)
                .endpoint(endpoint)
                .region("auto")
                .access_key_id(access_key_id)
                .secret_access_key(secret_access_key)
                .disable_config_load()
                .disable_ec2_metadata(),
        )?,
    })
}

/// Loco's storage for the configured media backend.
///
/// # Errors
/// When the backend cannot be configured.
pub fn storage(media: &Media) -> opendal::Result<Storage> {
    Ok(Storage::single(Box::new(MediaDriver::new(operator(
        media,
    )?))))
}

/// Loco's opendal adapter plus `Content-Type` and `Cache-Control` on upload.
pub struct MediaDriver {
    op: Operator,
    adapter: OpendalAdapter,
}

impl MediaDriver {
    #[must_use]
    pub fn new(op: Operator) -> Self {
        let adapter = OpendalAdapter::new(op.clone());
        Self {
            op: op.layer(RetryLayer::default().with_jitter()),
            adapter,
        }
    }
}

#[async_trait]
impl StoreDriver for MediaDriver {
    async fn upload(&self, path: &Path, content: &Bytes) -> StorageResult<UploadResponse> {
        let key = path.display().to_string();
        let cap = self.op.info().capability();
        let mut write = self.op.write_with(&key, content.clone());
        if cap.write_with_content_type {
            write = write.content_type(content_type_for(&key));
        }
        if cap.write_with_cache_control {
            write = write.cache_control(MEDIA_CACHE_CONTROL);
        }
        write.await?;
        Ok(UploadResponse::new(None, None))
    }

    async fn get(&self, path: &Path) -> StorageResult<GetResponse> {
        self.adapter.get(path).await
    }

    async fn delete(&self, path: &Path) -> StorageResult<()> {
        self.adapter.delete(path).await
    }

    async fn rename(&self, from: &Path, to: &Path) -> StorageResult<()> {
        self.adapter.rename(from, to).await
    }

    async fn copy(&self, from: &Path, to: &Path) -> StorageResult<()> {
        self.adapter.copy(from, to).await
    }

    async fn exists(&self, path: &Path) -> StorageResult<bool> {
        self.adapter.exists(path).await
    }

    async fn list(&self, path: &Path, recursive: bool) -> StorageResult<Vec<ListEntry>> {
        self.adapter.list(path, recursive).await
    }

    async fn stat(&self, path: &Path) -> StorageResult<ListEntry> {
        self.adapter.stat(path).await
    }

    async fn presign_get(
        &self,
        path: &Path,
        expire: Duration,
    ) -> StorageResult<loco_rs::storage::drivers::PresignedRequest> {
        self.adapter.presign_get(path, expire).await
    }
}

/// The kinds of image an event may show, recognised by their first bytes (the
/// declared type and the file name are not trusted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
    Gif,
    Webp,
}

impl ImageKind {
    /// Recognises an image by its signature.
    #[must_use]
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(Self::Gif)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }

    #[must_use]
    pub const fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Gif => "gif",
            Self::Webp => "webp",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_recognised_by_their_signature_not_their_name() {
        assert_eq!(
            ImageKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0]),
            Some(ImageKind::Jpeg)
        );
        assert_eq!(
            ImageKind::sniff(b"\x89PNG\r\n\x1a\n...."),
            Some(ImageKind::Png)
        );
        assert_eq!(ImageKind::sniff(b"GIF89a..."), Some(ImageKind::Gif));
        assert_eq!(
            ImageKind::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(ImageKind::Webp)
        );
        assert_eq!(ImageKind::sniff(b"<svg xmlns=..."), None);
        assert_eq!(ImageKind::sniff(b"<html><script>"), None);
        assert_eq!(ImageKind::sniff(b""), None);
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type_for("events/a/b.JPG"), "image/jpeg");
        assert_eq!(content_type_for("events/a/b.webp"), "image/webp");
        assert_eq!(content_type_for("x"), "application/octet-stream");
    }
}
