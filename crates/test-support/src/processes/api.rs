//! HTTP to the processes once they are up: the api as one tenant sees it, and the
//! simulator's admin API, each failing with the answer's body when not a success.

use serde_json::Value;

use super::HarnessError;

/// The api with one tenant's token; cheap to clone into each submitting task.
#[derive(Debug, Clone)]
pub struct ApiClient {
    pub client: reqwest::Client,
    /// `http://host:port`, without a trailing slash.
    pub api: String,
    pub token: String,
}

impl ApiClient {
    /// The api listening on `listen` (`host:port`), as the tenant whose token this is.
    pub fn new(client: reqwest::Client, listen: &str, token: String) -> Self {
        Self {
            client,
            api: format!("http://{listen}"),
            token,
        }
    }

    /// `POST /v1/integrations`; returns the new integration's id.
    pub async fn create_integration(&self, body: &Value) -> Result<String, HarnessError> {
        let request = self
            .client
            .post(format!("{}/v1/integrations", self.api))
            .bearer_auth(&self.token)
            .json(body);
        let created = answer(request, "creating an integration").await?;
        created["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| HarnessError::Refused {
                what: "creating an integration".into(),
                status: reqwest::StatusCode::OK,
                body: format!("no id in {created}"),
            })
    }

    /// `PATCH /v1/integrations/{id}`.
    pub async fn update_integration(&self, id: &str, body: &Value) -> Result<(), HarnessError> {
        let request = self
            .client
            .patch(format!("{}/v1/integrations/{id}", self.api))
            .bearer_auth(&self.token)
            .json(body);
        answer(request, &format!("updating integration {id}")).await?;
        Ok(())
    }
}

/// The simulator's admin API (`/_sim/…`), run as a process.
#[derive(Debug, Clone)]
pub struct SimAdmin {
    pub client: reqwest::Client,
    /// `http://host:port`, without a trailing slash; the services live under it too.
    pub base: String,
}

impl SimAdmin {
    /// The simulator listening on `listen` (`host:port`).
    pub fn new(client: reqwest::Client, listen: &str) -> Self {
        Self {
            client,
            base: format!("http://{listen}"),
        }
    }

    /// A workspace with this set-up (`{"token": …}`, or a vendor's credentials).
    pub async fn put_workspace(&self, name: &str, setup: &Value) -> Result<(), HarnessError> {
        self.put(&format!("/_sim/workspaces/{name}"), setup).await
    }

    /// Replaces the workspace's faults.
    pub async fn set_faults(&self, name: &str, faults: &Value) -> Result<(), HarnessError> {
        self.put(&format!("/_sim/workspaces/{name}/faults"), faults)
            .await
    }

    /// The workspace's stats: accounts, calls, duplicates.
    pub async fn stats(&self, name: &str) -> Result<Value, HarnessError> {
        self.get(&format!("/_sim/workspaces/{name}")).await
    }

    /// Any document of the admin API, such as a workspace's users.
    pub async fn get(&self, path: &str) -> Result<Value, HarnessError> {
        let request = self.client.get(format!("{}{path}", self.base));
        answer(request, &format!("the simulator's {path}")).await
    }

    async fn put(&self, path: &str, body: &Value) -> Result<(), HarnessError> {
        let request = self.client.put(format!("{}{path}", self.base)).json(body);
        answer(request, &format!("the simulator's {path}")).await?;
        Ok(())
    }
}

/// Sends `request`; its JSON body (null if it has none) on a success, else the error
/// with whatever it said.
async fn answer(request: reqwest::RequestBuilder, what: &str) -> Result<Value, HarnessError> {
    let http = |source| HarnessError::Http {
        what: what.to_owned(),
        source,
    };
    let response = request.send().await.map_err(http)?;
    let status = response.status();
    let text = response.text().await.map_err(http)?;
    if !status.is_success() {
        return Err(HarnessError::Refused {
            what: what.to_owned(),
            status,
            body: text,
        });
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}
