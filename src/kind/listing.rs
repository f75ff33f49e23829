//! The plan's list reads (issue 33): before the plan reads a resource by
//! itself, one list call of its kind can say it does not exist at all.
//!
//! A fresh stack of 100 functions otherwise spends its first seconds on 100
//! GetRole, 100 DescribeLogGroups, 100 GetFunction and 100 GetPolicy calls
//! that all answer "not found", at the request rates AWS's quotas allow
//! (IAM 20 a second, Logs 10, GetPolicy 15): ListRoles takes 1,000 roles a
//! call, DescribeLogGroups 50 groups of a prefix, ListFunctions 50. A name
//! the list does not hold is not there; a name it holds is still read by
//! itself (the list lacks tags, attachments, policies), so what the plan
//! sees is the same either way.
//!
//! Only the plan's read round has a listing (`Cx::listing`): a read after a
//! change (a create whose answer was lost, a look for a pending create)
//! must see AWS as it is now, not as the list was. A kind lists only when
//! the round reads at least [`LIST_FROM`] of it, within a budget of calls
//! (a quarter of the reads it may save, and at least one); a list cut short
//! by the budget, or refused (a caller allowed GetRole but not ListRoles),
//! says nothing and the reads go one by one as before.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

/// A kind is listed when the plan reads at least this many of it.
pub const LIST_FROM: usize = 4;

/// What one kind's list found: every name starting with `prefix`, when the
/// list went to its end.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listed {
    /// The names listed start with it ("" for a list of every name).
    pub prefix: String,
    /// Every name of the kind starting with `prefix`.
    pub names: BTreeSet<String>,
    /// Where the list answers everything a read by itself would (an API's
    /// routes and integrations): each found one as that read sees it.
    pub found: BTreeMap<String, crate::kind::Observed>,
}

impl Listed {
    /// Whether `name` exists, as far as this list can say.
    pub fn holds(&self, name: &str) -> Option<bool> {
        name.starts_with(&self.prefix)
            .then(|| self.names.contains(name))
    }
}

/// What a kind's list is asked: the longest prefix common to the names the
/// round reads, and how many list calls it may make.
#[derive(Debug, Clone, PartialEq)]
pub struct Ask {
    /// The names' longest common prefix.
    pub prefix: String,
    /// The most list calls (pages) worth making.
    pub budget: usize,
}

/// The plan's read round's lists, one per kind (and per parent, for a
/// child kind: an API's routes), each made at most once (on the first read
/// that asks) and shared by every read of the round.
#[derive(Default)]
pub struct Listing {
    names: BTreeMap<&'static str, Vec<String>>,
    #[allow(clippy::type_complexity)]
    lists: Mutex<HashMap<(&'static str, String), Arc<OnceCell<Option<Arc<Listed>>>>>>,
}

impl std::fmt::Debug for Listing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.names.iter().map(|(k, v)| (k, v.len())))
            .finish()
    }
}

/// The longest prefix the names share ("" for none).
pub fn common_prefix<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let mut it = names.into_iter();
    let Some(first) = it.next() else {
        return String::new();
    };
    let mut len = first.len();
    for n in it {
        len = first
            .char_indices()
            .zip(n.chars())
            .take_while(|((_, a), b)| a == b)
            .map(|((i, a), _)| i + a.len_utf8())
            .last()
            .unwrap_or(0)
            .min(len);
    }
    first[..len].to_string()
}

impl Listing {
    /// The round's listing: for each kind, the names its reads may look
    /// for (the state's IDs and the declared names).
    pub fn new(names: BTreeMap<&'static str, Vec<String>>) -> Listing {
        Listing {
            names,
            lists: Mutex::default(),
        }
    }

    /// What the list of `kind` would be asked, or None when the round reads
    /// too few of it to list (a name counts once for each resource: the
    /// groups of two pools may have the same names).
    pub fn ask(&self, kind: &str) -> Option<Ask> {
        let names = self.names.get(kind)?;
        if names.len() < LIST_FROM {
            return None;
        }
        let distinct: BTreeSet<&str> = names.iter().map(String::as_str).collect();
        Some(Ask {
            prefix: common_prefix(distinct.iter().copied()),
            budget: (names.len() / 4).max(1),
        })
    }

    /// The list of `kind` (inside `scope`, the parent's ID of a child
    /// kind, else ""), made by `list` on the first ask (`Ok(None)` when it
    /// went past its budget); None when the round reads too few of the kind
    /// to list, or the list was cut short or refused.
    pub async fn list<F, Fut>(
        &self,
        kind: &'static str,
        scope: &str,
        list: F,
    ) -> Option<Arc<Listed>>
    where
        F: FnOnce(Ask) -> Fut,
        Fut: Future<Output = crate::error::Result<Option<Listed>>>,
    {
        let ask = self.ask(kind)?;
        let cell = self
            .lists
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((kind, scope.to_string()))
            .or_default()
            .clone();
        cell.get_or_init(|| async move {
            match list(ask).await {
                Ok(l) => l.map(Arc::new),
                Err(e) => {
                    if std::env::var_os("DEPLOYER_DEBUG").is_some() {
                        eprintln!("deployer: the list of {kind} is not used: {e}");
                    }
                    None
                }
            }
        })
        .await
        .clone()
    }

    /// Whether `name` of `kind` exists by the kind's list (`list`), or None
    /// when the list cannot say (none, or `name` outside its prefix).
    pub async fn holds<F, Fut>(&self, kind: &'static str, name: &str, list: F) -> Option<bool>
    where
        F: FnOnce(Ask) -> Fut,
        Fut: Future<Output = crate::error::Result<Option<Listed>>>,
    {
        self.list(kind, "", list).await?.holds(name)
    }
}

/// One page of a list: the names on it (each with the resource as a read
/// of it sees it, where the list carries everything), and the token of the
/// next page; `ParentGone` when the resource the list is of (an API, a
/// pool) does not exist: nothing is in it.
pub enum Page {
    /// The page's names and the next page's token (None: the last page).
    Items(Vec<(String, Option<crate::kind::Observed>)>, Option<String>),
    /// The parent is gone.
    ParentGone,
}

/// A list of every name starting with `prefix` (`""`: a list of every
/// name), page by page (`page(token)`), within `ask.budget` pages:
/// `Ok(None)` when it went past them.
pub async fn paged<F, Fut>(
    ask: &Ask,
    prefix: &str,
    mut page: F,
) -> crate::error::Result<Option<Listed>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = crate::error::Result<Page>>,
{
    let mut out = Listed {
        prefix: prefix.to_string(),
        ..Listed::default()
    };
    let mut token = None;
    for _ in 0..ask.budget {
        match page(token.take()).await? {
            Page::ParentGone => return Ok(Some(Listed::default())),
            Page::Items(items, next) => {
                for (name, found) in items {
                    if let Some(o) = found {
                        out.found.insert(name.clone(), o);
                    }
                    out.names.insert(name);
                }
                token = next.filter(|t| !t.is_empty());
                if token.is_none() {
                    return Ok(Some(out));
                }
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_prefix_of_names() {
        assert_eq!(
            common_prefix([
                "/aws/lambda/b1-fn1",
                "/aws/lambda/b1-fn2",
                "/aws/lambda/b1-x"
            ]),
            "/aws/lambda/b1-"
        );
        assert_eq!(common_prefix(["abc"]), "abc");
        assert_eq!(common_prefix(["abc", "xyz"]), "");
        assert_eq!(common_prefix(["ab", "abc"]), "ab");
        assert_eq!(common_prefix(["é1", "é2"]), "é");
        assert_eq!(common_prefix(Vec::<&str>::new()), "");
    }

    fn listing(kind: &'static str, n: usize) -> Listing {
        Listing::new(BTreeMap::from([(
            kind,
            (0..n).map(|i| format!("app-fn{i}")).collect(),
        )]))
    }

    #[tokio::test]
    async fn a_kind_is_listed_once_and_only_when_enough_are_read() {
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let list = |ask: Ask| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move {
                assert_eq!(ask.prefix, "app-fn");
                Ok(Some(Listed {
                    prefix: ask.prefix,
                    names: ["app-fn1".to_string()].into(),
                    ..Listed::default()
                }))
            }
        };
        let few = listing("k", LIST_FROM - 1);
        assert_eq!(few.holds("k", "app-fn1", list).await, None);
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 0);
        let many = listing("k", 8);
        assert_eq!(many.ask("k").unwrap().budget, 2);
        assert_eq!(many.holds("k", "app-fn1", list).await, Some(true));
        assert_eq!(many.holds("k", "app-fn2", list).await, Some(false));
        assert_eq!(
            many.holds("k", "other", list).await,
            None,
            "outside the prefix"
        );
        assert_eq!(many.holds("j", "app-fn2", list).await, None, "another kind");
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn pages_are_read_to_the_last_within_the_budget() {
        let ask = |budget| Ask {
            prefix: "p".into(),
            budget,
        };
        let pages = |token: Option<String>| async move {
            Ok(match token.as_deref() {
                None => Page::Items(vec![("p1".into(), None)], Some("2".into())),
                Some("2") => Page::Items(vec![("p2".into(), None)], None),
                _ => unreachable!(),
            })
        };
        let all = paged(&ask(2), "p", pages).await.unwrap().unwrap();
        assert_eq!(all.names, ["p1".to_string(), "p2".to_string()].into());
        assert_eq!(all.prefix, "p");
        assert_eq!(
            paged(&ask(1), "p", pages).await.unwrap(),
            None,
            "past the budget"
        );
        let one = ask(1);
        let gone = paged(&one, "", |_| async { Ok(Page::ParentGone) }).await;
        assert_eq!(gone.unwrap().unwrap().holds("x"), Some(false));
    }

    #[tokio::test]
    async fn a_list_cut_short_or_refused_says_nothing() {
        let cut = listing("k", 8);
        assert_eq!(
            cut.holds("k", "app-fn1", |_| async { Ok(None) }).await,
            None
        );
        let refused = listing("k", 8);
        let r = refused
            .holds("k", "app-fn1", |_| async {
                Err(crate::error::Error::Other("AccessDenied".into()))
            })
            .await;
        assert_eq!(r, None);
    }
}
