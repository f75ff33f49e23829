//! A kind written outside deployer: an S3 bucket with versioning and tags
//! (`acme:s3:Bucket`), its provider (read and delete by the bucket's name),
//! and a program that uses it like deployer's own kinds. Nothing inside
//! deployer names it.
//! `cargo run --example own_kind -- up`; settings in the `--config` file:
//! `versioning = false` (updated in place), `read_only = true` (the role's
//! inline policy on the bucket loses `s3:PutObject`), `bucket = false`
//! (the program drops them: the next `up` deletes them, the bucket through
//! the provider `main` registers).
use deployer::config::Config;
use deployer::error::{Error, Result};
use deployer::kind::{
    props, string_map, tags_value, Cx, Desired, Kind, Known, Observed, Prior, Props, Provider, Read,
};
use deployer::model::{Handle, Output, Stack};
use deployer::resources::iam::{PolicyDocument, RolePolicy, Statement};
use deployer::resources::lambda::Role;
use deployer::App;
use serde_json::json;
use std::sync::Arc;

/// An S3 bucket: the arguments a program declares it with.
pub struct Bucket {
    /// Globally unique; a new name replaces the bucket.
    pub name: String,
    /// Keep every version of every object.
    pub versioning: bool,
}

/// A kind's typed outputs: a trait of the kind's crate on deployer's
/// `Handle` (Rust allows no inherent `impl` on another crate's type).
pub trait BucketOutputs {
    /// `arn:aws:s3:::NAME`, for a policy.
    fn arn(&self) -> Output<String>;
}

impl BucketOutputs for Handle<Bucket> {
    fn arn(&self) -> Output<String> {
        self.output("arn")
    }
}

/// Reads and deletes buckets by name.
pub struct BucketProvider;

/// The S3 client of a run: its SDK configuration, its calls counted with
/// deployer's own; path-style addressing on a custom endpoint, as the S3
/// state backend does.
fn s3(cx: &Cx) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(&cx.aws.sdk)
        .interceptor(cx.aws.counter())
        .force_path_style(cx.aws.sdk.endpoint_url().is_some())
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

#[async_trait::async_trait]
impl Provider for BucketProvider {
    fn kind(&self) -> &'static str {
        "acme:s3:Bucket"
    }
    async fn read(&self, cx: &Cx, id: &str, _parent: Option<&str>) -> Result<Read> {
        let c = s3(cx);
        match c.head_bucket().bucket(id).send().await {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {
                return Ok(Read::Missing)
            }
            Err(e) => return Err(Error::aws(format!("head bucket {id}"), e)),
        }
        let tags = match c.get_bucket_tagging().bucket(id).send().await {
            Ok(t) => t
                .tag_set
                .into_iter()
                .map(|t| (t.key, t.value))
                .collect::<Vec<_>>(),
            // No tag set at all.
            Err(e)
                if e.as_service_error().and_then(|s| s.meta().code()) == Some("NoSuchTagSet") =>
            {
                vec![]
            }
            Err(e) => return Err(Error::aws(format!("get tags of bucket {id}"), e)),
        };
        let versioning = c
            .get_bucket_versioning()
            .bucket(id)
            .send()
            .await
            .map_err(|e| Error::aws(format!("get versioning of bucket {id}"), e))?
            .status
            .is_some_and(|s| s.as_str() == "Enabled");
        let arn = format!("arn:{}:s3:::{id}", cx.ctx.partition);
        Ok(Read::Found(Observed {
            id: id.to_string(),
            props: props(json!({"name": id, "versioning": versioning, "tags": tags_value(tags)})),
            outputs: [("id".to_string(), id.to_string()), ("arn".to_string(), arn)].into(),
        }))
    }
    async fn delete(&self, cx: &Cx, id: &str, _parent: Option<&str>) -> Result<()> {
        match s3(cx).delete_bucket().bucket(id).send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error().and_then(|s| s.meta().code()) == Some("NoSuchBucket") =>
            {
                Ok(())
            }
            Err(e) => Err(Error::aws(format!("delete bucket {id}"), e)),
        }
    }
}

impl Bucket {
    /// Sets versioning and tags as declared (what create and update share).
    async fn apply(&self, cx: &Cx, d: &Props, o: Option<&Observed>) -> Result<Observed> {
        use aws_sdk_s3::types::{BucketVersioningStatus, Tag, Tagging, VersioningConfiguration};
        let c = s3(cx);
        let changed = |k: &str| o.is_none_or(|o| o.props.get(k) != d.get(k));
        if changed("versioning") && (self.versioning || o.is_some()) {
            let status = match self.versioning {
                true => BucketVersioningStatus::Enabled,
                false => BucketVersioningStatus::Suspended,
            };
            c.put_bucket_versioning()
                .bucket(&self.name)
                .versioning_configuration(VersioningConfiguration::builder().status(status).build())
                .send()
                .await
                .map_err(|e| Error::aws(format!("set versioning of bucket {}", self.name), e))?;
        }
        if changed("tags") {
            let tags = string_map(d, "tags")
                .into_iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| Error::Other(e.to_string()))?;
            let tagging = Tagging::builder()
                .set_tag_set(Some(tags))
                .build()
                .map_err(|e| Error::Other(e.to_string()))?;
            c.put_bucket_tagging()
                .bucket(&self.name)
                .tagging(tagging)
                .send()
                .await
                .map_err(|e| Error::aws(format!("tag bucket {}", self.name), e))?;
        }
        match BucketProvider.read(cx, &self.name, None).await? {
            Read::Found(o) => Ok(o),
            Read::Missing => Err(Error::Other(format!("bucket {} vanished", self.name))),
        }
    }
}

#[async_trait::async_trait]
impl Kind for Bucket {
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(BucketProvider)
    }
    fn deps(&self) -> Vec<String> {
        vec![]
    }
    fn replace_on(&self) -> &'static [&'static str] {
        &["name"]
    }
    fn desired(&self, ctx: &deployer::kind::Ctx, _k: &Known) -> Desired {
        props(json!({
            "name": self.name,
            "versioning": self.versioning,
            "tags": tags_value(ctx.tags.clone()),
        }))
        .into()
    }
    /// By the ID the state records, else by its name (a create whose answer
    /// was lost).
    async fn read(&self, cx: &Cx, prior: &Prior) -> Result<Read> {
        let id = prior.id.as_deref().unwrap_or(&self.name);
        BucketProvider.read(cx, id, None).await
    }
    async fn create(&self, cx: &Cx, d: &Props, _k: &Known) -> Result<Observed> {
        use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
        let mut req = s3(cx).create_bucket().bucket(&self.name);
        if cx.ctx.region != "us-east-1" {
            let here = BucketLocationConstraint::from(cx.ctx.region.as_str());
            let conf = CreateBucketConfiguration::builder().location_constraint(here);
            req = req.create_bucket_configuration(conf.build());
        }
        match req.send().await {
            Ok(_) => {}
            // Ours already (a create whose answer was lost): adopted only
            // when it carries this stack's ID.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_bucket_already_owned_by_you()) =>
            {
                if let Read::Found(o) = BucketProvider.read(cx, &self.name, None).await? {
                    cx.ctx.ensure_ours("bucket", &o)?;
                }
            }
            Err(e) => return Err(Error::aws(format!("create bucket {}", self.name), e)),
        }
        self.apply(cx, d, None).await
    }
    async fn update(&self, cx: &Cx, d: &Props, o: &Observed, _k: &Known) -> Result<Observed> {
        self.apply(cx, d, Some(o)).await
    }
}

/// The program's settings.
#[derive(serde::Deserialize)]
struct Settings {
    #[serde(default = "yes")]
    bucket: bool,
    #[serde(default = "yes")]
    versioning: bool,
    /// The role may read the bucket's objects, not write them.
    #[serde(default)]
    read_only: bool,
}

fn yes() -> bool {
    true
}

fn program(cfg: &Config, settings: &Settings, s: &mut Stack) -> Result<()> {
    if settings.bucket {
        let bucket = Bucket {
            name: format!("{}-own-kind-data", cfg.name_prefix),
            versioning: settings.versioning,
        };
        let bucket = s.add("data", bucket);
        s.export("bucket_arn", bucket.arn());
        // A role of deployer's kinds allowed onto the bucket: the bucket's
        // ARN (an output of this crate's kind) in a typed policy document.
        let role = s.add(
            "role",
            Role::for_lambda(format!("{}-own-kind", cfg.name_prefix)),
        );
        let mut actions = vec!["s3:GetObject"];
        if !settings.read_only {
            actions.push("s3:PutObject");
        }
        let objects = bucket.arn().map(|a| format!("{a}/*"));
        let document = PolicyDocument {
            statements: vec![Statement::allow(actions, [objects])],
        };
        let name = "data".to_string();
        s.add(
            "role/data",
            RolePolicy {
                role_name: role.id(),
                name,
                document,
            },
        );
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    // The provider keeps the kind known once the program declares no bucket.
    App::with_settings(program).provider(BucketProvider).main()
}
