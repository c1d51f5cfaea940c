//! A lean DynamoDB client: JSON-protocol calls signed with AWS Signature Version 4, retried with
//! backoff on throttling, server errors and lost connections.

use std::fmt;
use std::time::Duration;

use aws_lc_rs::{digest, hmac};
use chrono::Utc;
use serde_json::{Value, json};
use tracing::warn;

use crate::error::{DeltaError, DeltaResult};
use crate::storage::backoff;

/// How many times one call is sent before its error is returned.
const CALL_ATTEMPTS: u32 = 8;

/// Static AWS credentials; `Debug` shows the key id only.
#[derive(Clone, PartialEq, Eq)]
pub struct AwsCredentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
    /// `AWS_SESSION_TOKEN`, for temporary credentials.
    pub session_token: Option<String>,
}

impl fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// An error answered by DynamoDB (or the failure to reach it).
#[derive(Debug)]
pub enum CallError {
    /// DynamoDB answered with this exception type (e.g. `ConditionalCheckFailedException`).
    Service {
        /// The exception name, without its namespace.
        kind: String,
        /// Its message.
        message: String,
    },
    /// No usable answer after every attempt.
    Transport(String),
}

impl CallError {
    /// Whether DynamoDB answered with the exception `kind`.
    pub fn is(&self, kind: &str) -> bool {
        matches!(self, Self::Service { kind: k, .. } if k == kind)
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Service { kind, message } => write!(f, "{kind}: {message}"),
            Self::Transport(reason) => f.write_str(reason),
        }
    }
}

/// A DynamoDB endpoint with credentials.
#[derive(Debug, Clone)]
pub struct DynamoClient {
    http: reqwest::Client,
    endpoint: url::Url,
    region: String,
    credentials: AwsCredentials,
}

impl DynamoClient {
    /// A client of `endpoint` (e.g. `https://dynamodb.eu-west-1.amazonaws.com`).
    pub fn new(endpoint: url::Url, region: String, credentials: AwsCredentials) -> DeltaResult<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| DeltaError::InvalidArgument(format!("cannot create the DynamoDB client: {e}")))?;
        Ok(Self {
            http,
            endpoint,
            region,
            credentials,
        })
    }

    /// Call `operation` (e.g. `PutItem`) with `request`; retried on throttling, 5xx and
    /// transport errors. A retried call may have been applied already: callers of non-idempotent
    /// operations check for their own write when a condition then fails.
    pub async fn call(&self, operation: &str, request: &Value) -> Result<Value, CallError> {
        let body = request.to_string();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let error = match self.send(operation, &body).await {
                Ok(value) => return Ok(value),
                Err((error, false)) => return Err(error),
                Err((error, true)) => error,
            };
            if attempt >= CALL_ATTEMPTS {
                return Err(error);
            }
            warn!(operation, attempt, %error, "DynamoDB call failed, retrying");
            tokio::time::sleep(backoff(attempt + 2)).await;
        }
    }

    /// One attempt; the error says whether it is worth retrying.
    async fn send(&self, operation: &str, body: &str) -> Result<Value, (CallError, bool)> {
        let target = format!("DynamoDB_20120810.{operation}");
        let now = Utc::now();
        let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
        let host = match (self.endpoint.host_str(), self.endpoint.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => String::new(),
        };
        let mut headers = vec![
            ("content-type", "application/x-amz-json-1.0".to_string()),
            ("host", host),
            ("x-amz-date", amz_date.clone()),
            ("x-amz-target", target),
        ];
        if let Some(token) = &self.credentials.session_token {
            headers.push(("x-amz-security-token", token.clone()));
        }
        let authorization = sign_v4(&SigningInput {
            credentials: &self.credentials,
            region: &self.region,
            service: "dynamodb",
            amz_date: &amz_date,
            path: self.endpoint.path(),
            headers: &headers,
            body: body.as_bytes(),
        });
        let mut request = self.http.post(self.endpoint.clone()).body(body.to_string());
        for (name, value) in headers.iter().filter(|(n, _)| *n != "host") {
            request = request.header(*name, value);
        }
        let response = request
            .header("authorization", authorization)
            .send()
            .await
            .map_err(|e| (CallError::Transport(format!("DynamoDB request failed: {e}")), true))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| (CallError::Transport(format!("DynamoDB response lost: {e}")), true))?;
        if status.is_success() {
            return serde_json::from_str(&text)
                .map_err(|e| (CallError::Transport(format!("invalid DynamoDB response: {e}")), false));
        }
        let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let kind = parsed["__type"]
            .as_str()
            .map(|t| t.rsplit('#').next().unwrap_or(t).to_string())
            .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
        let message = parsed["message"]
            .as_str()
            .or_else(|| parsed["Message"].as_str())
            .unwrap_or_default()
            .to_string();
        let retry = status.is_server_error()
            || [
                "ThrottlingException",
                "ProvisionedThroughputExceededException",
                "RequestLimitExceeded",
            ]
            .contains(&kind.as_str());
        Err((CallError::Service { kind, message }, retry))
    }
}

/// What a Signature Version 4 `Authorization` header is computed from.
struct SigningInput<'a> {
    credentials: &'a AwsCredentials,
    region: &'a str,
    service: &'a str,
    /// `YYYYMMDDTHHMMSSZ`.
    amz_date: &'a str,
    path: &'a str,
    /// Lower-case names; all of them are signed.
    headers: &'a [(&'a str, String)],
    body: &'a [u8],
}

/// The `Authorization` header of a POST without query string.
fn sign_v4(input: &SigningInput<'_>) -> String {
    let mut headers: Vec<_> = input.headers.iter().collect();
    headers.sort_by_key(|(name, _)| *name);
    let canonical_headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}:{}\n", value.trim()))
        .collect();
    let signed_headers = headers.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(";");
    let canonical_request = format!(
        "POST\n{}\n\n{canonical_headers}\n{signed_headers}\n{}",
        if input.path.is_empty() { "/" } else { input.path },
        hex(digest::digest(&digest::SHA256, input.body).as_ref())
    );
    let date = &input.amz_date[..8];
    let scope = format!("{date}/{}/{}/aws4_request", input.region, input.service);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        input.amz_date,
        hex(digest::digest(&digest::SHA256, canonical_request.as_bytes()).as_ref())
    );
    let secret = format!("AWS4{}", input.credentials.secret_access_key);
    let key = [date, input.region, input.service, "aws4_request"]
        .iter()
        .fold(secret.into_bytes(), |key, part| hmac_sha256(&key, part.as_bytes()));
    let signature = hex(&hmac_sha256(&key, string_to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        input.credentials.access_key_id
    )
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data)
        .as_ref()
        .to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A string attribute value.
pub fn s(value: &str) -> Value {
    json!({ "S": value })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signature botocore computes for the same request (an independent implementation).
    #[test]
    fn signature_matches_botocore() {
        let credentials = AwsCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        };
        let headers = [
            ("content-type", "application/x-amz-json-1.0".to_string()),
            ("host", "localhost:4566".to_string()),
            ("x-amz-date", "20261201T173727Z".to_string()),
            ("x-amz-target", "DynamoDB_20120810.DescribeTable".to_string()),
        ];
        let auth = sign_v4(&SigningInput {
            credentials: &credentials,
            region: "us-east-1",
            service: "dynamodb",
            amz_date: "20261201T173727Z",
            path: "/",
            headers: &headers,
            body: br#"{"TableName":"delta_log"}"#,
        });
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261201/us-east-1/dynamodb/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-target, \
             Signature=7dadd3438cb42f936032686ab203e8d75aefb0db4d2437e930aadd149dde8d9f"
        );
    }

    #[test]
    fn authorization_names_scope_and_signed_headers_but_not_the_secret() {
        let credentials = AwsCredentials {
            access_key_id: "AKID".into(),
            secret_access_key: "very-secret".into(),
            session_token: None,
        };
        let headers = [
            ("x-amz-date", "20240101T000000Z".to_string()),
            ("host", "localhost:4566".to_string()),
        ];
        let auth = sign_v4(&SigningInput {
            credentials: &credentials,
            region: "us-east-1",
            service: "dynamodb",
            amz_date: "20240101T000000Z",
            path: "/",
            headers: &headers,
            body: b"{}",
        });
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/dynamodb/aws4_request, "));
        assert!(auth.contains("SignedHeaders=host;x-amz-date, Signature="), "{auth}");
        assert!(!auth.contains("very-secret"));
        assert!(!format!("{credentials:?}").contains("very-secret"));
    }
}
