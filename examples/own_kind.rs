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
use deployer::kind::spec::{read_of, tag_map, Fixed, Found};
use deployer::kind::{Cx, Known, Provider, Read};
use deployer::model::{Handle, Inputs, Output, Stack, Typed};
use deployer::resources::iam::{PolicyDocument, RolePolicy, Statement};
use deployer::resources::lambda::Role;
use deployer::App;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// An S3 bucket: the arguments a program declares it with.
pub struct Bucket {
    /// Globally unique; a new name replaces the bucket.
    pub name: String,
    /// Keep every version of every object.
    pub versioning: bool,
}

/// A bucket's settings, as declared and as S3 reports them: each field a
/// setting of that name; `Fixed`: a change replaces the bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BucketSpec {
    pub name: Fixed<String>,
    pub versioning: bool,
    pub tags: BTreeMap<String, String>,
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

impl BucketProvider {
    /// The bucket `id` as S3 reports it, if there is one.
    async fn find(cx: &Cx, id: &str) -> Result<Option<Found<BucketSpec>>> {
        let c = &cx.aws.s3;
        match c.head_bucket().bucket(id).send().await {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => return Ok(None),
            Err(e) => return Err(Error::aws(format!("head bucket {id}"), e)),
        }
        let tags = match c.get_bucket_tagging().bucket(id).send().await {
            Ok(t) => t.tag_set.into_iter().map(|t| (t.key, t.value)).collect(),
            // No tag set at all.
            Err(e)
                if e.as_service_error().and_then(|s| s.meta().code()) == Some("NoSuchTagSet") =>
            {
                BTreeMap::new()
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
        let spec = BucketSpec {
            name: id.into(),
            versioning,
            tags: tag_map(tags),
        };
        let arn = format!("arn:{}:s3:::{id}", cx.ctx.partition);
        Ok(Some(Found::new(id, spec).output("arn", arn)))
    }
}

#[async_trait::async_trait]
impl Provider for BucketProvider {
    fn kind(&self) -> &'static str {
        "acme:s3:Bucket"
    }
    async fn read(&self, cx: &Cx, id: &str, _parent: Option<&str>) -> Result<Read> {
        read_of(Self::find(cx, id).await?)
    }
    async fn delete(&self, cx: &Cx, id: &str, _parent: Option<&str>) -> Result<()> {
        match cx.aws.s3.delete_bucket().bucket(id).send().await {
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

/// Sets versioning and tags as `spec` says, where they differ from `had`
/// (none: a bucket just made).
async fn apply(cx: &Cx, spec: &BucketSpec, had: Option<&BucketSpec>) -> Result<Found<BucketSpec>> {
    use aws_sdk_s3::types::{BucketVersioningStatus, Tag, Tagging, VersioningConfiguration};
    let (c, name) = (&cx.aws.s3, spec.name.as_str());
    if had.map(|h| h.versioning) != Some(spec.versioning) && (spec.versioning || had.is_some()) {
        let status = match spec.versioning {
            true => BucketVersioningStatus::Enabled,
            false => BucketVersioningStatus::Suspended,
        };
        c.put_bucket_versioning()
            .bucket(name)
            .versioning_configuration(VersioningConfiguration::builder().status(status).build())
            .send()
            .await
            .map_err(|e| Error::aws(format!("set versioning of bucket {name}"), e))?;
    }
    if had.map(|h| &h.tags) != Some(&spec.tags) {
        let tags = spec
            .tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build());
        let tags = tags.collect::<std::result::Result<Vec<_>, _>>();
        let tagging = tags.and_then(|t| Tagging::builder().set_tag_set(Some(t)).build());
        c.put_bucket_tagging()
            .bucket(name)
            .tagging(tagging.map_err(|e| Error::Other(e.to_string()))?)
            .send()
            .await
            .map_err(|e| Error::aws(format!("tag bucket {name}"), e))?;
    }
    BucketProvider::find(cx, name)
        .await?
        .ok_or_else(|| Error::Other(format!("bucket {name} vanished")))
}

#[async_trait::async_trait]
impl Typed for Bucket {
    type Spec = BucketSpec;
    fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(BucketProvider)
    }
    fn spec(&self, i: &mut Inputs) -> BucketSpec {
        BucketSpec {
            name: self.name.as_str().into(),
            versioning: self.versioning,
            tags: tag_map(i.ctx().tags.clone()),
        }
    }
    /// Found by its name where the state records no ID (a create whose
    /// answer was lost).
    fn declared_id(&self) -> Option<String> {
        Some(self.name.clone())
    }
    async fn create(&self, cx: &Cx, spec: &BucketSpec, _k: &Known) -> Result<Found<BucketSpec>> {
        use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
        let name = spec.name.as_str();
        let mut req = cx.aws.s3.create_bucket().bucket(name);
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
                if let Some(f) = BucketProvider::find(cx, name).await? {
                    f.ensure_ours(&cx.ctx, "bucket")?;
                }
            }
            Err(e) => return Err(Error::aws(format!("create bucket {name}"), e)),
        }
        apply(cx, spec, None).await
    }
    async fn update(
        &self,
        cx: &Cx,
        spec: &BucketSpec,
        found: &Found<BucketSpec>,
        _k: &Known,
    ) -> Result<Found<BucketSpec>> {
        apply(cx, spec, Some(&found.spec)).await
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
