//! One conference over two media nodes behind the SIP entry (issue #16): the
//! first caller's node holds the room (its lease), a caller on the other node
//! joins that room through the cascade between the nodes. Three baresip
//! callers, all dialling the entry, which sends them to the nodes in turn, each
//! playing its own tone: what each heard shows the room is whole,
//! the listener unheard, nobody hearing itself; each leg is written by the node
//! its caller called, noting the one owner.

use std::time::Duration;

use teleconf_adapters::store::RoomStore;
use teleconf_domain::CallerRole;
use teleconf_tests::media::OpenConference;
use teleconf_tests::peers::ScratchDir;
use teleconf_tests::peers::baresip::Baresip;
use teleconf_tests::sip_entry::SipEntry;
use teleconf_tests::stack::Stack;

use super::edge::wait_for_legs_within;
use super::entry::{ADMITTED, caller, every_leg_hung_up_by_its_caller, node_with};
use super::sipp_and_baresip::{ONE_ROOM, one_room_was_heard};

/// How long a heartbeat may take to show a call (written every 5 s).
const HEARTBEAT: Duration = Duration::from_secs(15);

/// A conference on two nodes behind the SIP entry, its first caller admitted
/// through the entry: `owner` is the node that holds its room, `member` the other.
pub(super) struct TwoNodes {
    pub stack: Stack,
    pub open: OpenConference,
    pub entry: SipEntry,
    pub dir: ScratchDir,
    /// The conference's access number at the entry.
    pub through_the_entry: String,
    pub owner: usize,
    pub member: usize,
}

impl TwoNodes {
    /// Starts the stack, the entry and two nodes, and the first caller (`name`,
    /// playing `tone` as `role`) through the entry, admitted.
    pub(super) async fn with_first_caller(
        name: &str,
        tone_and_role: (f64, CallerRole),
    ) -> (Self, Baresip) {
        let stack = Stack::new().await;
        let open = OpenConference::create(&stack.store).await;
        let entry = SipEntry::start(&stack, 2).await.unwrap();
        let dir = ScratchDir::new(name).unwrap();
        let through_the_entry = entry.uri(&open.access.number);
        let first = caller(&dir, name, tone_and_role, &through_the_entry, &open).await;
        wait_for_legs_within(&stack, &open, ADMITTED, |legs| legs.len() == 1).await;
        let owner = node_with(&stack, &entry, 1).await;
        let two = Self {
            stack,
            open,
            entry,
            dir,
            through_the_entry,
            owner,
            member: 1 - owner,
        };
        (two, first)
    }

    /// Checks that the room's lease is the owner's, naming its address between
    /// nodes.
    pub(super) async fn lease_is_the_owner_s(&self) {
        let lease = self
            .stack
            .store
            .room_lease(self.open.conference.id)
            .await
            .unwrap()
            .expect("the room's lease");
        let owner = &self.entry.nodes[self.owner];
        assert_eq!((lease.owner, lease.cascade), (owner.id.clone(), owner.sip));
    }
}

#[tokio::test]
async fn three_callers_on_two_nodes_hear_one_room_through_the_cascade() {
    // The first participant, through the entry: its node claims the room.
    let (two, mut a) = TwoNodes::with_first_caller("cascade-a", ONE_ROOM[0]).await;
    let (stack, open, entry) = (&two.stack, &two.open, &two.entry);
    let (dir, through_the_entry) = (&two.dir, &two.through_the_entry);
    let (owner, member) = (two.owner, two.member);
    two.lease_is_the_owner_s().await;

    // The second participant, through the entry too: its round robin sends it
    // to the other node (the entry's nodes take calls in turn, both probed up),
    // which joins the owner's room through the cascade.
    let both: Vec<_> = entry.nodes.iter().map(|node| node.sip).collect();
    entry
        .wait_until_active(&both, Duration::from_secs(10))
        .await
        .unwrap();
    let mut b = caller(dir, "cascade-b", ONE_ROOM[1], through_the_entry, open).await;
    wait_for_legs_within(stack, open, ADMITTED, |legs| legs.len() == 2).await;
    entry
        .wait_for_heartbeat(stack, member, |beat| beat.calls == 1, HEARTBEAT)
        .await
        .unwrap();
    // The listener, through the entry: back on the owner's node.
    entry
        .wait_until_active(&both, Duration::from_secs(10))
        .await
        .unwrap();
    let mut l = caller(dir, "cascade-l", ONE_ROOM[2], through_the_entry, open).await;
    wait_for_legs_within(stack, open, ADMITTED, |legs| legs.len() == 3).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    for phone in [&mut a, &mut b, &mut l] {
        phone.hangup().await.unwrap();
    }

    // Each participant hears the other, through the cascade, and never itself;
    // the listener hears both, and nobody hears it.
    one_room_was_heard(&[&a, &b, &l]);

    // Each caller's leg written once, by its own node; the cascade is no leg.
    let legs = every_leg_hung_up_by_its_caller(stack, open, 3).await;
    // Written by the node each caller called: two entry nodes, the owner's for
    // A and the listener, the member's for B; every one noting the one owner.
    let written_by = |i: usize| {
        legs.iter()
            .filter(|leg| leg.node.as_ref() == Some(&entry.nodes[i].id))
            .count()
    };
    assert_eq!((written_by(owner), written_by(member)), (2, 1), "{legs:?}");
    assert!(
        legs.iter()
            .all(|leg| leg.owner_node.as_ref() == Some(&entry.nodes[owner].id)),
        "{legs:?}"
    );
    // The room's lease goes with the owner's last caller (the cascade's end).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while stack
        .store
        .room_lease(open.conference.id)
        .await
        .unwrap()
        .is_some()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the lease outlived the room; logs in {}",
            entry.keep_logs().display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
