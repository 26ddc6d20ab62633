//! Who may do what: the one permission matrix every edge (API, portal, media-node
//! controls) asks. Built from the seed's roles: « Téléconférences – Administrateur »
//! lists, creates, modifies and sees logs and recordings of every conference of the
//! account; « Téléconférences – Opérateur » sees the whole list and creates, but
//! modifies and sees logs/recordings only of the conferences they created.

use crate::{AccountId, Conference, Role, User, UserId};

/// The signed-in user, as far as permissions care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// Who.
    pub user: UserId,
    /// Their account.
    pub account: AccountId,
    /// Their role.
    pub role: Role,
}

impl From<&User> for Actor {
    fn from(u: &User) -> Self {
        Actor {
            user: u.id,
            account: u.account_id,
            role: u.role,
        }
    }
}

/// A conference as far as permissions care: whose it is, who created it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConferenceRef {
    /// Its account.
    pub account: AccountId,
    /// Its creator.
    pub created_by: UserId,
}

impl From<&Conference> for ConferenceRef {
    fn from(c: &Conference) -> Self {
        ConferenceRef {
            account: c.account_id,
            created_by: c.created_by,
        }
    }
}

/// Something a user wants to do, with what it is done to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See the conference list of an account (and each conference's details).
    ListConferences(AccountId),
    /// Schedule a conference in an account.
    CreateConference(AccountId),
    /// Change or cancel a conference, invite to it, control it live.
    ModifyConference(ConferenceRef),
    /// See a conference's CDRs.
    ViewLogs(ConferenceRef),
    /// See and download a conference's recordings.
    ViewRecordings(ConferenceRef),
    /// See an account's CDRs as a whole (filtered to what [`Action::ViewLogs`] allows).
    ListLogs(AccountId),
    /// See an account's recent activity.
    ViewActivity(AccountId),
    /// Add, change or remove users of an account (the provider's administrator: the
    /// provider's own users).
    ManageUsers(AccountId),
    /// Configure the access numbers assigned to an account, and their greetings.
    ManageNumbers(AccountId),
    /// See an account's access numbers (they appear in every confirmation).
    ViewNumbers(AccountId),
    /// List, add and remove the account's IP phones (whose `*44` reaches its
    /// conferences).
    ManageIpPhones(AccountId),
    /// Upload prompts (greetings, intro messages) to an account.
    UploadPrompts(AccountId),
    /// See an account's invoices.
    ViewInvoices(AccountId),
    /// Create and change accounts, plans, limits and rates, and assign access
    /// numbers to accounts (provider).
    ManageAccounts,
    /// Read the monthly finance exports (provider).
    ViewFinanceExports,
}

/// The answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allowed,
    /// The actor can see the thing but may not do this to it (HTTP 403).
    Forbidden,
    /// The thing belongs to another account: as far as the actor knows, it does not
    /// exist (HTTP 404, so ids of other customers cannot be probed).
    NotFound,
}

impl Decision {
    /// True for [`Decision::Allowed`].
    pub fn is_allowed(self) -> bool {
        self == Decision::Allowed
    }
}

/// The matrix.
pub fn decide(actor: &Actor, action: Action) -> Decision {
    use Decision::{Allowed, Forbidden, NotFound};
    use Role::{ConferenceAdmin, ConferenceOperator, Finance, Owner, ProviderAdmin};

    // Provider actions: only provider roles, whatever the account.
    match action {
        Action::ManageAccounts => {
            return if actor.role == ProviderAdmin {
                Allowed
            } else {
                Forbidden
            };
        }
        // The exports are the finance team's alone; to everyone else they do not
        // exist (#7: 404 for everyone else).
        Action::ViewFinanceExports => {
            return if actor.role == Finance {
                Allowed
            } else {
                NotFound
            };
        }
        _ => {}
    }

    // Everything else acts on one account; another account's things do not exist for
    // the actor. Provider users see no customer's conferences, users or logs; the
    // provider's administrator manages the provider's own users.
    let account = match action {
        Action::ListConferences(a)
        | Action::CreateConference(a)
        | Action::ListLogs(a)
        | Action::ViewActivity(a)
        | Action::ManageUsers(a)
        | Action::ManageNumbers(a)
        | Action::ViewNumbers(a)
        | Action::ManageIpPhones(a)
        | Action::UploadPrompts(a)
        | Action::ViewInvoices(a) => a,
        Action::ModifyConference(c) | Action::ViewLogs(c) | Action::ViewRecordings(c) => c.account,
        Action::ManageAccounts | Action::ViewFinanceExports => unreachable!("handled above"),
    };
    if account != actor.account {
        return NotFound;
    }
    if actor.role.is_provider() {
        return match (actor.role, action) {
            (ProviderAdmin, Action::ManageUsers(_)) => Allowed,
            _ => NotFound,
        };
    }

    let own = |c: ConferenceRef| c.created_by == actor.user;
    let allowed = match (actor.role, action) {
        (
            Owner | ConferenceAdmin,
            Action::ModifyConference(_) | Action::ViewLogs(_) | Action::ViewRecordings(_),
        ) => true,
        (
            ConferenceOperator,
            Action::ModifyConference(c) | Action::ViewLogs(c) | Action::ViewRecordings(c),
        ) => own(c),
        (
            Owner | ConferenceAdmin | ConferenceOperator,
            Action::ListConferences(_)
            | Action::CreateConference(_)
            | Action::ListLogs(_)
            | Action::ViewActivity(_)
            | Action::ViewNumbers(_)
            | Action::UploadPrompts(_),
        ) => true,
        (
            Owner,
            Action::ManageUsers(_)
            | Action::ManageNumbers(_)
            | Action::ManageIpPhones(_)
            | Action::ViewInvoices(_),
        ) => true,
        _ => false,
    };
    if allowed { Allowed } else { Forbidden }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Decision::{Allowed as A, Forbidden as F, NotFound as N};

    /// Whose conference the action targets, seen from the actor.
    #[derive(Debug, Clone, Copy)]
    enum Whose {
        Own,
        OtherUsersInMyAccount,
        ForeignAccount,
    }

    /// What kind of action, independent of the target.
    #[derive(Debug, Clone, Copy)]
    enum Verb {
        List,
        Create,
        Modify,
        Logs,
        Recordings,
        ListLogs,
        Activity,
        Users,
        Numbers,
        SeeNumbers,
        IpPhones,
        Prompts,
        Invoices,
        Accounts,
        Exports,
    }

    fn action(verb: Verb, account: AccountId, conf: ConferenceRef) -> Action {
        match verb {
            Verb::List => Action::ListConferences(account),
            Verb::Create => Action::CreateConference(account),
            Verb::Modify => Action::ModifyConference(conf),
            Verb::Logs => Action::ViewLogs(conf),
            Verb::Recordings => Action::ViewRecordings(conf),
            Verb::ListLogs => Action::ListLogs(account),
            Verb::Activity => Action::ViewActivity(account),
            Verb::Users => Action::ManageUsers(account),
            Verb::Numbers => Action::ManageNumbers(account),
            Verb::SeeNumbers => Action::ViewNumbers(account),
            Verb::IpPhones => Action::ManageIpPhones(account),
            Verb::Prompts => Action::UploadPrompts(account),
            Verb::Invoices => Action::ViewInvoices(account),
            Verb::Accounts => Action::ManageAccounts,
            Verb::Exports => Action::ViewFinanceExports,
        }
    }

    /// Expected decisions for: own conference in own account / another user's
    /// conference in own account / anything in a foreign account.
    type Expected = [Decision; 3];

    /// Expected decision per role for one action.
    type Row = (Verb, [(Role, Expected); 5]);

    #[rustfmt::skip]
    const MATRIX: &[Row] = {
        use Role::*;
        &[
            (Verb::List,       [(Owner, [A, A, N]), (ConferenceAdmin, [A, A, N]), (ConferenceOperator, [A, A, N]), (ProviderAdmin, [N, N, N]), (Finance, [N, N, N])]),
            (Verb::Create,     [(Owner, [A, A, N]), (ConferenceAdmin, [A, A, N]), (ConferenceOperator, [A, A, N]), (ProviderAdmin, [N, N, N]), (Finance, [N, N, N])]),
            (Verb::Modify,     [(Owner, [A, A, N]), (ConferenceAdmin, [A, A, N]), (ConferenceOperator, [A, F, N]), (ProviderAdmin, [N, N, N]), (Finance, [N, N, N])]),
            (Verb::Logs,       [(Owner, [A, A, N]), (ConferenceAdmin, [A, A, N]), (ConferenceOperator, [A, F, N]), (ProviderAdmin, [N, N, N]), (Finance, [N, N, N])]),
            (Verb::Recordings, [(Owner, [A, A, N]), (ConferenceAdmin, [A, A, N]), (ConferenceOperator, [A, F, N]), (ProviderAdmin, [N, N, N]), (Finance, [N, N, N])]),
            (Verb::ListLogs,   [(Owner, [A, A, N]), (ConferenceAdmin, [A, A, N]), (ConferenceOperator, [A, A, N]), (ProviderAdmin, [N, N, N]), (Finance, [N, N, N])]),
            (Verb::Activity,   [(Owner, [A, A, N]), (ConferenceAdmin, [A, A, N]), (ConferenceOperator, [A, A, N]), (ProviderAdmin, [N, N, N]), (Finance, [N, N, N])]),
            (Verb::Users,      [(Owner, [A, A, N]), (ConferenceAdmin, [F, F, N]), (ConferenceOperator, [F, F, N]), (ProviderAdmin, [A, A, N]), (Finance, [N, N, N])]),
            (Verb::Numbers,    [(Owner, [A, A, N]), (ConferenceAdmin, [F, F, N]), (ConferenceOperator, [F, F, N]), (ProviderAdmin, [N, N, N]), (Finance, [N, N, N])]),
            (Verb::SeeNumbers, [(Owner, [A, A, N]), (ConferenceAdmin, [A, A, N]), (ConferenceOperator, [A, A, N]), (ProviderAdmin, [N, N, N]), (Finance, [N, N, N])]),
            (Verb::IpPhones,   [(Owner, [A, A, N]), (ConferenceAdmin, [F, F, N]), (ConferenceOperator, [F, F, N]), (ProviderAdmin, [N, N, N]), (Finance, [N, N, N])]),
            (Verb::Prompts,    [(Owner, [A, A, N]), (ConferenceAdmin, [A, A, N]), (ConferenceOperator, [A, A, N]), (ProviderAdmin, [N, N, N]), (Finance, [N, N, N])]),
            (Verb::Invoices,   [(Owner, [A, A, N]), (ConferenceAdmin, [F, F, N]), (ConferenceOperator, [F, F, N]), (ProviderAdmin, [N, N, N]), (Finance, [N, N, N])]),
            (Verb::Accounts,   [(Owner, [F, F, F]), (ConferenceAdmin, [F, F, F]), (ConferenceOperator, [F, F, F]), (ProviderAdmin, [A, A, A]), (Finance, [F, F, F])]),
            (Verb::Exports,    [(Owner, [N, N, N]), (ConferenceAdmin, [N, N, N]), (ConferenceOperator, [N, N, N]), (ProviderAdmin, [N, N, N]), (Finance, [A, A, A])]),
        ]
    };

    #[test]
    fn every_role_action_and_ownership_gets_the_matrix_answer() {
        let mine = AccountId::new();
        let foreign = AccountId::new();
        let mut checked = 0;
        for (verb, rows) in MATRIX {
            for (role, expected) in rows {
                let me = Actor {
                    user: UserId::new(),
                    account: mine,
                    role: *role,
                };
                for (whose, want) in [
                    Whose::Own,
                    Whose::OtherUsersInMyAccount,
                    Whose::ForeignAccount,
                ]
                .into_iter()
                .zip(expected)
                {
                    let (account, created_by) = match whose {
                        Whose::Own => (mine, me.user),
                        Whose::OtherUsersInMyAccount => (mine, UserId::new()),
                        Whose::ForeignAccount => (foreign, UserId::new()),
                    };
                    let got = decide(
                        &me,
                        action(
                            *verb,
                            account,
                            ConferenceRef {
                                account,
                                created_by,
                            },
                        ),
                    );
                    assert_eq!(got, *want, "{role:?} {verb:?} {whose:?}");
                    checked += 1;
                }
            }
        }
        // 15 actions × 5 roles × 3 targets: nothing skipped.
        assert_eq!(checked, 15 * 5 * 3);
        assert!(
            MATRIX
                .iter()
                .all(|(_, rows)| Role::ALL.iter().all(|r| rows.iter().any(|(x, _)| x == r)))
        );
    }

    #[test]
    fn an_operator_may_not_touch_another_operators_conference() {
        let account = AccountId::new();
        let me = Actor {
            user: UserId::new(),
            account,
            role: Role::ConferenceOperator,
        };
        let theirs = ConferenceRef {
            account,
            created_by: UserId::new(),
        };
        assert!(decide(&me, Action::ListConferences(account)).is_allowed());
        assert_eq!(
            decide(&me, Action::ModifyConference(theirs)),
            Decision::Forbidden
        );
        assert_eq!(
            decide(&me, Action::ViewRecordings(theirs)),
            Decision::Forbidden
        );
    }
}
