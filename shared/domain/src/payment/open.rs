//! Opening an order for payment: the student of a bound, open campaign gets their one live
//! order there (made on the first call, the same one on every later call) with a WeChat Pay
//! trade to pay it through.

use time::OffsetDateTime;

use super::{CancelError, GatewayError, PaymentGateway, Prepay, reconcile};
use crate::campaign::{CampaignStatus, Campaigns};
use crate::identity::{BindingStatus, Enrolments};
use crate::order::{self, Order, OrderState, OrderStore};
use crate::{StoreError, UserId, UserRepo};

/// What the student gets back.
#[derive(Debug, Clone, PartialEq)]
pub enum Opened {
    /// The order waits for payment through this prepay id; `new` when this call made it.
    Payable { order: Order, prepay_id: String, new: bool },
    /// The student's order in the campaign is past payment already (paid, in review, …).
    Settled(Order),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("no such campaign")]
    NoCampaign,
    #[error("the campaign is not open: {0:?}")]
    NotOpen(CampaignStatus),
    #[error("the student is not verified in this campaign")]
    NotVerified,
    #[error("the binding waits for the ID-card photos")]
    CardPhotosNeeded,
    /// Less than a minute of the campaign is left to pay in.
    #[error("too late to pay before the campaign closes")]
    TooLateToPay,
    /// The token names a user the store does not have.
    #[error("unknown user")]
    UnknownUser,
    /// The student's earlier order lapsed unpaid just now; asking again makes a new one.
    #[error("the earlier order expired")]
    ExpiredRetry,
    #[error("WeChat Pay: {0}")]
    Gateway(#[from] GatewayError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<CancelError> for OpenError {
    fn from(e: CancelError) -> Self {
        match e {
            CancelError::Gateway(e) => Self::Gateway(e),
            CancelError::Store(e) => Self::Store(e),
        }
    }
}

/// The ports opening an order reads and writes.
pub struct Deps<'a, C, E, U, O, P> {
    pub campaigns: &'a C,
    pub enrolments: &'a E,
    pub users: &'a U,
    pub orders: &'a O,
    pub pay: &'a P,
}

/// Opens `user`'s order in `campaign_id` for payment at `now`.
pub async fn open_for_payment<C, E, U, O, P>(
    deps: Deps<'_, C, E, U, O, P>,
    user: &UserId,
    campaign_id: &str,
    now: OffsetDateTime,
) -> Result<Opened, OpenError>
where
    C: Campaigns,
    E: Enrolments,
    U: UserRepo,
    O: OrderStore,
    P: PaymentGateway,
{
    let campaign = deps.campaigns.campaign(campaign_id).await?.ok_or(OpenError::NoCampaign)?;
    match campaign.status(now) {
        CampaignStatus::Open => {}
        other => return Err(OpenError::NotOpen(other)),
    }
    match deps.enrolments.binding(user, &campaign.id).await? {
        Some(BindingStatus::Complete) => {}
        Some(BindingStatus::CardPhotosNeeded) => return Err(OpenError::CardPhotosNeeded),
        None => return Err(OpenError::NotVerified),
    }
    let time_expire = order::payable_until(campaign.window.closes_at, now).ok_or(OpenError::TooLateToPay)?;
    let payer = deps.users.get(user).await.map_err(StoreError::from)?.ok_or(OpenError::UnknownUser)?;
    let unpaid = Order::unpaid(
        user.clone(),
        payer.openid.as_str(),
        &campaign.id,
        &campaign.school_id,
        u64::from(campaign.price_fen),
        now.unix_timestamp(),
        time_expire.unix_timestamp(),
    );
    let checks = Some(campaign.free_checks);
    let fresh = Order { free_checks: checks, checks_left: checks, ..unpaid };
    let (mut order, new) = deps.orders.open(fresh).await?;
    if order.state == OrderState::Created && order.time_expire <= now.unix_timestamp() {
        // An earlier order whose payment window lapsed: settled first (it may have been paid
        // at the last moment), then the student asks again for a new one.
        reconcile(deps.orders, deps.pay, &order, now).await?;
        return Err(OpenError::ExpiredRetry);
    }
    if order.state != OrderState::Created {
        return Ok(Opened::Settled(order));
    }
    let prepay_id = match &order.prepay_id {
        Some(id) => id.clone(),
        None => {
            let trade = Prepay {
                out_trade_no: order.out_trade_no.as_str(),
                description: &format!("{} - 证件照采集", campaign.name),
                amount_fen: order.amount_fen,
                payer_openid: &order.payer_openid,
                time_expire: OffsetDateTime::from_unix_timestamp(order.time_expire).unwrap_or(time_expire),
            };
            let id = deps.pay.prepay(&trade).await?;
            deps.orders.set_prepay(&order.out_trade_no, &id).await?;
            order.prepay_id = Some(id.clone());
            id
        }
    };
    tracing::info!(out_trade_no = %order.out_trade_no, campaign_id = %order.campaign_id, new, "order ready for payment");
    Ok(Opened::Payable { order, prepay_id, new })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use time::Duration;

    use super::*;
    use crate::campaign::Campaign;
    use crate::campaign::memory::{MemoryCampaigns, campaign};
    use crate::identity::memory::MemoryEnrolments;
    use crate::order::OutTradeNo;
    use crate::order::ReportedPayment;
    use crate::order::change::memory::MemoryOrders;
    use crate::payment::Closing;
    use crate::test_support::run;
    use crate::user::memory::MemoryUsers;

    /// WeChat Pay opening trades `wx-prepay-<n>`, or down.
    #[derive(Default)]
    struct Pay {
        opened: Mutex<Vec<(String, u64, String)>>,
        down: bool,
    }

    impl PaymentGateway for Pay {
        fn appid(&self) -> &str {
            "wx-app"
        }
        fn mchid(&self) -> &str {
            "1900000001"
        }
        async fn close(&self, _no: &OutTradeNo) -> Result<Closing, GatewayError> {
            Ok(Closing::Closed)
        }
        async fn query(&self, _no: &OutTradeNo) -> Result<Option<ReportedPayment>, GatewayError> {
            Ok(None)
        }
        async fn prepay(&self, trade: &Prepay<'_>) -> Result<String, GatewayError> {
            if self.down {
                return Err(GatewayError("timed out".into()));
            }
            let mut opened = self.opened.lock().expect("lock");
            opened.push((trade.out_trade_no.to_owned(), trade.amount_fen, trade.payer_openid.to_owned()));
            Ok(format!("wx-prepay-{}", opened.len()))
        }
    }

    /// A bound student of campaign `c1`, and everything around them.
    struct World {
        campaigns: MemoryCampaigns,
        enrolments: MemoryEnrolments,
        users: MemoryUsers,
        orders: MemoryOrders,
        pay: Pay,
        student: UserId,
    }

    impl World {
        fn new(campaign: Campaign, binding: Option<BindingStatus>) -> Self {
            let (users, student) = MemoryUsers::with_student("oStudent0001");
            let mut bindings = HashMap::new();
            if let Some(b) = binding {
                bindings.insert((student.id.clone(), campaign.id.clone()), b);
            }
            Self {
                campaigns: MemoryCampaigns(vec![campaign]),
                enrolments: MemoryEnrolments(bindings),
                users,
                orders: MemoryOrders::default(),
                pay: Pay::default(),
                student: student.id,
            }
        }

        fn bound() -> Self {
            Self::new(campaign(), Some(BindingStatus::Complete))
        }

        fn open_at(&self, now: OffsetDateTime) -> Result<Opened, OpenError> {
            let deps = Deps {
                campaigns: &self.campaigns,
                enrolments: &self.enrolments,
                users: &self.users,
                orders: &self.orders,
                pay: &self.pay,
            };
            run(open_for_payment(deps, &self.student, "c1", now))
        }

        fn open(&self) -> Result<Opened, OpenError> {
            self.open_at(day_one())
        }
    }

    fn day_one() -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::days(1)
    }

    #[test]
    fn given_a_bound_student_when_opening_then_one_unpaid_order_at_the_price_is_payable_for_two_hours() {
        let world = World::bound();
        let Ok(Opened::Payable { order, prepay_id, new: true }) = world.open() else { panic!("not payable") };
        assert_eq!((order.state, order.amount_fen, order.user_id.clone()), (OrderState::Created, 2500, world.student));
        assert_eq!(order.time_expire, (day_one() + Duration::hours(2)).unix_timestamp());
        assert_eq!(order.payer_openid, "oStudent0001");
        assert_eq!((order.free_checks, order.checks_left), (Some(10), Some(10)), "the campaign's free checks");
        assert_eq!(prepay_id, "wx-prepay-1");
        assert_eq!(world.orders.order(&order.out_trade_no).and_then(|o| o.prepay_id).as_deref(), Some("wx-prepay-1"));
    }

    #[test]
    fn given_an_open_order_when_opening_again_then_the_same_order_and_trade_come_back() {
        let world = World::bound();
        let Ok(Opened::Payable { order: first, .. }) = world.open() else { panic!("not payable") };
        let Ok(Opened::Payable { order, prepay_id, new }) = world.open() else { panic!("not payable") };
        assert_eq!((order.out_trade_no, prepay_id, new), (first.out_trade_no, "wx-prepay-1".into(), false));
        assert_eq!(world.pay.opened.lock().expect("lock").len(), 1, "one trade at WeChat Pay");
    }

    #[test]
    fn given_a_paid_order_when_opening_then_it_is_returned_and_nothing_is_charged() {
        let world = World::bound();
        let Ok(Opened::Payable { order, .. }) = world.open() else { panic!("not payable") };
        world.orders.orders.lock().expect("lock").get_mut(&order.out_trade_no).expect("order").state = OrderState::Paid;
        assert!(matches!(world.open(), Ok(Opened::Settled(o)) if o.state == OrderState::Paid));
        assert_eq!(world.pay.opened.lock().expect("lock").len(), 1);
    }

    #[test]
    fn given_an_order_that_lapsed_unpaid_when_opening_then_it_expires_and_the_student_asks_again() {
        let world = World::bound();
        let Ok(Opened::Payable { order, .. }) = world.open() else { panic!("not payable") };
        assert_eq!(world.open_at(day_one() + Duration::hours(3)), Err(OpenError::ExpiredRetry));
        assert_eq!(world.orders.order(&order.out_trade_no).map(|o| o.state), Some(OrderState::Expired));
        let Ok(Opened::Payable { order: next, new: true, .. }) = world.open_at(day_one() + Duration::hours(3)) else {
            panic!("a new order")
        };
        assert_ne!(next.out_trade_no, order.out_trade_no);
    }

    #[test]
    fn given_a_campaign_closing_soon_then_the_payment_window_ends_with_it_and_the_last_minute_is_refused() {
        let closes = day_one() + Duration::minutes(30);
        let world = World::new(
            Campaign { window: crate::campaign::Window { closes_at: closes, ..campaign().window }, ..campaign() },
            Some(BindingStatus::Complete),
        );
        let Ok(Opened::Payable { order, .. }) = world.open() else { panic!("not payable") };
        assert_eq!(order.time_expire, closes.unix_timestamp());
        let late = World::new(
            Campaign { window: crate::campaign::Window { closes_at: closes, ..campaign().window }, ..campaign() },
            Some(BindingStatus::Complete),
        );
        assert_eq!(late.open_at(closes - Duration::seconds(30)), Err(OpenError::TooLateToPay));
    }

    #[test]
    fn given_a_closed_or_unopened_or_unknown_campaign_then_no_order_is_made() {
        let closed = World::new(Campaign { closed: true, ..campaign() }, Some(BindingStatus::Complete));
        assert_eq!(closed.open(), Err(OpenError::NotOpen(CampaignStatus::Closed)));
        let early = World::bound();
        assert_eq!(
            early.open_at(OffsetDateTime::UNIX_EPOCH - Duration::days(1)),
            Err(OpenError::NotOpen(CampaignStatus::NotYetOpen))
        );
        let unknown = World::new(Campaign { id: "c2".into(), ..campaign() }, Some(BindingStatus::Complete));
        assert_eq!(unknown.open(), Err(OpenError::NoCampaign));
        for world in [closed, early, unknown] {
            assert!(world.orders.orders.lock().expect("lock").is_empty());
        }
    }

    #[test]
    fn given_a_student_not_bound_or_waiting_for_card_photos_then_no_order_is_made() {
        let unbound = World::new(campaign(), None);
        assert_eq!(unbound.open(), Err(OpenError::NotVerified));
        let waiting = World::new(campaign(), Some(BindingStatus::CardPhotosNeeded));
        assert_eq!(waiting.open(), Err(OpenError::CardPhotosNeeded));
        assert!(unbound.orders.orders.lock().expect("lock").is_empty());
        assert!(waiting.orders.orders.lock().expect("lock").is_empty());
    }

    #[test]
    fn given_wechat_pay_down_when_opening_then_the_order_waits_without_a_trade_and_the_next_call_opens_it() {
        let mut world = World::bound();
        world.pay.down = true;
        assert!(matches!(world.open(), Err(OpenError::Gateway(_))));
        world.pay.down = false;
        let Ok(Opened::Payable { new: false, prepay_id, .. }) = world.open() else { panic!("the same order") };
        assert_eq!(prepay_id, "wx-prepay-1");
        assert_eq!(world.orders.orders.lock().expect("lock").len(), 1);
    }
}
