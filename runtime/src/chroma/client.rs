//! A small typed client for the Chroma server's v2 HTTP API: the few
//! endpoints migrations and their tracking need.
//!
//! crates.io's `chromadb` 2.3.0 speaks the v1 API, which Chroma 1.x
//! answers with `410 Gone` ("The v1 API is deprecated"), so this crate
//! talks to `/api/v2` itself, over reqwest (rustls, no default features)
//! and serde.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A record's metadata, or a collection's: Chroma keeps strings, numbers
/// and booleans.
pub type Metadata = Map<String, Value>;

/// What a Chroma request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ChromaError {
    /// The request did not get an answer (connection refused, timeout, ...).
    #[error("{method} {path}: {source}")]
    Http {
        /// The request's method.
        method: &'static str,
        /// Its path under the server's URL.
        path: String,
        /// reqwest's error.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error status.
    #[error("{method} {path}: {status} {message}")]
    Status {
        /// The request's method.
        method: &'static str,
        /// Its path under the server's URL.
        path: String,
        /// The HTTP status.
        status: u16,
        /// The server's own message.
        message: String,
    },
}

impl ChromaError {
    /// The HTTP status the server answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ChromaError::Status { status, .. } => Some(*status),
            ChromaError::Http { .. } => None,
        }
    }

    /// `409 Conflict`: the collection (or database) exists already.
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(409)
    }

    /// `404 Not Found`.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

/// A collection, as the server describes it.
#[derive(Clone, Debug, Deserialize)]
pub struct Collection {
    /// Its id, which stays when it is renamed.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its metadata.
    #[serde(default)]
    pub metadata: Option<Metadata>,
    /// Its configuration: the HNSW (or SPANN) settings, the embedding
    /// function.
    #[serde(default)]
    pub configuration_json: Value,
}

/// Records of a collection, column by column.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct Records {
    /// Their ids.
    pub ids: Vec<String>,
    /// Their embeddings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embeddings: Option<Vec<Vec<f32>>>,
    /// Their documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documents: Option<Vec<Option<String>>>,
    /// Their metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadatas: Option<Vec<Option<Metadata>>>,
    /// Their URIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uris: Option<Vec<Option<String>>>,
}

impl Records {
    /// How many records.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// No record.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// A Chroma server, one tenant and one database of it: what ChromaDB
/// migrations run on (`MIGRATIONS.run(&client)`), and what a Rust code
/// migration's `up` and `down` receive.
#[derive(Clone)]
pub struct ChromaClient {
    http: reqwest::Client,
    url: String,
    tenant: String,
    database: String,
    /// Requests sent, by this client and its clones.
    sent: Arc<AtomicU64>,
}

impl fmt::Debug for ChromaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChromaClient({}, {}/{})", self.url, self.tenant, self.database)
    }
}

impl ChromaClient {
    /// The server at `url` (`http://127.0.0.1:8000`), its `default_tenant`
    /// and `default_database`.
    pub fn new(url: impl Into<String>) -> ChromaClient {
        ChromaClient::with_http(reqwest::Client::new(), url, "default_tenant", "default_database")
    }

    /// The server at `url` through the given reqwest client (its headers
    /// carry an API key, say), on `tenant` and `database`.
    pub fn with_http(
        http: reqwest::Client,
        url: impl Into<String>,
        tenant: impl Into<String>,
        database: impl Into<String>,
    ) -> ChromaClient {
        ChromaClient {
            http,
            url: url.into().trim_end_matches('/').to_string(),
            tenant: tenant.into(),
            database: database.into(),
            sent: Arc::default(),
        }
    }

    /// How many requests this client and its clones have sent: what a boot
    /// check costs is measured with it.
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// The same server and tenant, another database.
    pub fn database_named(&self, database: impl Into<String>) -> ChromaClient {
        ChromaClient {
            database: database.into(),
            ..self.clone()
        }
    }

    /// The same server, another tenant and database.
    pub fn tenant_named(&self, tenant: impl Into<String>, database: impl Into<String>) -> ChromaClient {
        ChromaClient {
            tenant: tenant.into(),
            database: database.into(),
            ..self.clone()
        }
    }

    /// The server's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The tenant.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The database.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// [`Self::send_once`], again while the server answers that its
    /// system database is locked: the single-node server keeps collections
    /// in SQLite, which refuses a write while another commits (seen with 16
    /// processes at once). Its transaction rolled back, so trying again
    /// repeats nothing.
    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: String,
        body: Option<Value>,
    ) -> Result<T, ChromaError> {
        let mut wait = std::time::Duration::from_millis(20);
        for _ in 0..10 {
            match self.send_once(method.clone(), path.clone(), body.clone()).await {
                Err(ChromaError::Status {
                    status: 500,
                    ref message,
                    ..
                }) if message.contains("database is locked") => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(std::time::Duration::from_millis(500));
                }
                other => return other,
            }
        }
        self.send_once(method, path, body).await
    }

    async fn send_once<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: String,
        body: Option<Value>,
    ) -> Result<T, ChromaError> {
        let name: &'static str = match method {
            reqwest::Method::GET => "GET",
            reqwest::Method::POST => "POST",
            reqwest::Method::PUT => "PUT",
            reqwest::Method::DELETE => "DELETE",
            _ => "request",
        };
        let http = |source| ChromaError::Http {
            method: name,
            path: path.clone(),
            source,
        };
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.sent.fetch_add(1, Ordering::Relaxed);
        let response = request.send().await.map_err(http)?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            // `{"error": "...", "message": "..."}`; anything else as it came.
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
                .unwrap_or(text);
            return Err(ChromaError::Status {
                method: name,
                path,
                status: status.as_u16(),
                message,
            });
        }
        response.json::<T>().await.map_err(http)
    }

    fn collections_path(&self) -> String {
        format!(
            "/api/v2/tenants/{}/databases/{}/collections",
            self.tenant, self.database
        )
    }

    /// `GET /api/v2/version`: the API's version (`1.0.0`).
    pub async fn version(&self) -> Result<String, ChromaError> {
        self.send(reqwest::Method::GET, "/api/v2/version".to_string(), None)
            .await
    }

    /// Creates this client's database in its tenant.
    pub async fn create_database(&self) -> Result<(), ChromaError> {
        let path = format!("/api/v2/tenants/{}/databases", self.tenant);
        let body = serde_json::json!({ "name": self.database });
        self.send::<Value>(reqwest::Method::POST, path, Some(body))
            .await
            .map(drop)
    }

    /// Deletes this client's database, with every collection in it.
    pub async fn delete_database(&self) -> Result<(), ChromaError> {
        let path = format!("/api/v2/tenants/{}/databases/{}", self.tenant, self.database);
        self.send::<Value>(reqwest::Method::DELETE, path, None).await.map(drop)
    }

    /// Every collection of the database, by name.
    pub async fn list_collections(&self) -> Result<Vec<Collection>, ChromaError> {
        let mut all = Vec::new();
        loop {
            let path = format!("{}?limit=1000&offset={}", self.collections_path(), all.len());
            let page: Vec<Collection> = self.send(reqwest::Method::GET, path, None).await?;
            let done = page.len() < 1000;
            all.extend(page);
            if done {
                break;
            }
        }
        all.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(all)
    }

    /// The collection called `name`, or `None`.
    pub async fn get_collection(&self, name: &str) -> Result<Option<Collection>, ChromaError> {
        let path = format!("{}/{name}", self.collections_path());
        match self.send(reqwest::Method::GET, path, None).await {
            Ok(collection) => Ok(Some(collection)),
            Err(err) if err.is_not_found() => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Creates a collection; a name taken already is a `409`
    /// ([`ChromaError::is_conflict`]): the server refuses it atomically,
    /// which is what the migration lock is made of.
    pub async fn create_collection(
        &self,
        name: &str,
        metadata: Option<&Metadata>,
        configuration: Option<&Value>,
    ) -> Result<Collection, ChromaError> {
        let mut body = serde_json::json!({ "name": name });
        // The server refuses an empty metadata map.
        if let Some(metadata) = metadata.filter(|m| !m.is_empty()) {
            body["metadata"] = Value::Object(metadata.clone());
        }
        if let Some(configuration) = configuration {
            body["configuration"] = configuration.clone();
        }
        self.send(reqwest::Method::POST, self.collections_path(), Some(body))
            .await
    }

    /// Deletes the collection called `name` and its records.
    pub async fn delete_collection(&self, name: &str) -> Result<(), ChromaError> {
        let path = format!("{}/{name}", self.collections_path());
        self.send::<Value>(reqwest::Method::DELETE, path, None).await.map(drop)
    }

    /// Renames the collection `id` and/or replaces its metadata (the new
    /// map replaces the old one whole). By id: a `404` when it is gone.
    pub async fn modify_collection(
        &self,
        id: &str,
        new_name: Option<&str>,
        new_metadata: Option<&Metadata>,
    ) -> Result<(), ChromaError> {
        let path = format!("{}/{id}", self.collections_path());
        let mut body = serde_json::json!({});
        if let Some(name) = new_name {
            body["new_name"] = Value::String(name.to_string());
        }
        if let Some(metadata) = new_metadata {
            body["new_metadata"] = Value::Object(metadata.clone());
        }
        self.send::<Value>(reqwest::Method::PUT, path, Some(body))
            .await
            .map(drop)
    }

    /// Adds or replaces records in the collection `id`.
    pub async fn upsert(&self, id: &str, records: &Records) -> Result<(), ChromaError> {
        let path = format!("{}/{id}/upsert", self.collections_path());
        let body = serde_json::to_value(records).expect("records serialize");
        self.send::<Value>(reqwest::Method::POST, path, Some(body))
            .await
            .map(drop)
    }

    /// Records of the collection `id`: those of `ids` when given, else
    /// `limit` from `offset` on, with everything they hold.
    pub async fn get(
        &self,
        id: &str,
        ids: Option<&[String]>,
        limit: Option<u64>,
        offset: u64,
    ) -> Result<Records, ChromaError> {
        let path = format!("{}/{id}/get", self.collections_path());
        let mut body = serde_json::json!({
            "offset": offset,
            "include": ["embeddings", "documents", "metadatas", "uris"],
        });
        if let Some(ids) = ids {
            body["ids"] = serde_json::json!(ids);
        }
        if let Some(limit) = limit {
            body["limit"] = serde_json::json!(limit);
        }
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    /// How many records the collection `id` holds.
    pub async fn count(&self, id: &str) -> Result<u64, ChromaError> {
        let path = format!("{}/{id}/count", self.collections_path());
        self.send(reqwest::Method::GET, path, None).await
    }

    /// Deletes the records `ids` of the collection `id`.
    pub async fn delete_records(&self, id: &str, ids: &[String]) -> Result<(), ChromaError> {
        let path = format!("{}/{id}/delete", self.collections_path());
        let body = serde_json::json!({ "ids": ids });
        self.send::<Value>(reqwest::Method::POST, path, Some(body))
            .await
            .map(drop)
    }
}
