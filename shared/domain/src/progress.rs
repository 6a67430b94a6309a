//! A campaign's progress as school staff follow it: where every student on the roster
//! stands, counted by stage and by department/major/class, and the students still to act,
//! filtered. Counted from the orders themselves, so always exact.

use std::collections::{BTreeMap, HashMap};

use crate::order::{Order, Stage};
use crate::roster::RosterLine;

/// At most this many students are listed at once (filters narrow it down).
pub const MAX_LISTED: usize = 500;

/// Which students to list. No stage: everyone not approved yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub stage: Option<Stage>,
    /// Part of a name or of a (masked) student number.
    pub text: Option<String>,
    /// The line a whole student number names (found through its keyed pointer: numbers are
    /// stored masked).
    pub numbered_entry: Option<String>,
    pub department: Option<String>,
    pub major: Option<String>,
    pub class: Option<String>,
}

/// One department, major and class: how many students, how many done (approved, or
/// collected offline).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    pub total: u64,
    pub approved: u64,
    pub done: u64,
}

/// A student the filter lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<'a> {
    pub line: &'a RosterLine,
    pub stage: Stage,
    /// The order that counts for them, if any.
    pub order: Option<&'a Order>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Progress<'a> {
    /// Every stage, with the students in it (0 included).
    pub by_stage: BTreeMap<Stage, u64>,
    /// By (department, major, class).
    pub groups: BTreeMap<(String, String, String), Group>,
    /// The first [`MAX_LISTED`] students the filter matches, in roster order.
    pub listed: Vec<Listed<'a>>,
    /// How many it matches in all.
    pub matching: usize,
}

impl Filter {
    fn matches(&self, line: &RosterLine, stage: Stage) -> bool {
        // By default, the students still to act: not those approved or collected offline.
        let stage_ok = match self.stage {
            Some(want) => stage == want,
            None => !matches!(stage, Stage::Approved | Stage::CollectedOffline),
        };
        let text_ok = self.text.as_deref().is_none_or(|q| {
            line.name.contains(q)
                || line.student_no.as_deref().is_some_and(|n| n.contains(q))
                || self.numbered_entry.as_deref() == Some(line.entry_id.as_str())
        });
        let same = |want: &Option<String>, have: &Option<String>| want.is_none() || want == have;
        stage_ok
            && text_ok
            && same(&self.department, &line.department)
            && same(&self.major, &line.major)
            && same(&self.class, &line.class)
    }
}

/// Where the roster's students stand, given the campaign's orders (`counting`, from
/// [`order::counting_orders`]).
pub fn progress<'a>(lines: &'a [RosterLine], counting: &'a HashMap<String, Order>, filter: &Filter) -> Progress<'a> {
    let mut p = Progress {
        by_stage: Stage::ALL.iter().map(|s| (*s, 0)).collect(),
        groups: BTreeMap::new(),
        listed: Vec::new(),
        matching: 0,
    };
    for line in lines {
        let order = line.bound_user_id.as_ref().and_then(|u| counting.get(u));
        let stage = Stage::of_line(line.bound_user_id.is_some(), line.collected_offline, order.map(|o| o.state));
        *p.by_stage.entry(stage).or_default() += 1;
        let at = |f: &Option<String>| f.clone().unwrap_or_default();
        let group = p.groups.entry((at(&line.department), at(&line.major), at(&line.class))).or_default();
        group.total += 1;
        group.approved += u64::from(stage == Stage::Approved);
        group.done += u64::from(matches!(stage, Stage::Approved | Stage::CollectedOffline));
        if filter.matches(line, stage) {
            p.matching += 1;
            if p.listed.len() < MAX_LISTED {
                p.listed.push(Listed { line, stage, order });
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UserId;
    use crate::order::OrderState;

    fn line(id: &str, name: &str, class: &str, bound: Option<&UserId>) -> RosterLine {
        RosterLine {
            entry_id: id.into(),
            name: name.into(),
            id_number: "1101**********0011".into(),
            student_no: Some(format!("2023{id}")),
            department: Some("数学学院".into()),
            major: Some("数学".into()),
            class: Some(class.into()),
            bound_user_id: bound.map(|u| u.to_string()),
            collected_offline: false,
        }
    }

    fn order_of(user: &UserId, state: OrderState) -> Order {
        Order { state, ..Order::unpaid(user.clone(), "oStudent0001", "c1", "s1", 2500, 0, 7200) }
    }

    /// Four students of two classes: approved, in review, unpaid, not verified.
    fn campaign() -> (Vec<RosterLine>, HashMap<String, Order>) {
        let (a, b, c) = (UserId::random(), UserId::random(), UserId::random());
        let lines = vec![
            line("e1", "张三", "一班", Some(&a)),
            line("e2", "李四", "一班", Some(&b)),
            line("e3", "王五", "二班", Some(&c)),
            line("e4", "赵六", "二班", None),
        ];
        let orders =
            [order_of(&a, OrderState::Approved), order_of(&b, OrderState::InReview), order_of(&c, OrderState::Created)];
        (lines, crate::order::counting_orders(orders))
    }

    fn names<'a>(p: &Progress<'a>) -> Vec<&'a str> {
        p.listed.iter().map(|l| l.line.name.as_str()).collect()
    }

    #[test]
    fn every_student_is_counted_in_one_stage_and_one_group_and_those_not_approved_are_listed() {
        let (lines, orders) = campaign();
        let p = progress(&lines, &orders, &Filter::default());
        assert_eq!(p.by_stage.len(), Stage::ALL.len());
        let counted = [Stage::Approved, Stage::InReview, Stage::Unpaid, Stage::NotVerified].map(|s| p.by_stage[&s]);
        assert_eq!(counted, [1, 1, 1, 1]);
        assert_eq!(p.by_stage.values().sum::<u64>(), 4);
        let one = &p.groups[&("数学学院".into(), "数学".into(), "一班".into())];
        assert_eq!((one.total, one.approved, one.done), (2, 1, 1));
        assert_eq!((names(&p), p.matching), (vec!["李四", "王五", "赵六"], 3));
        assert_eq!(p.listed[0].order.map(|o| o.state), Some(OrderState::InReview));
    }

    #[test]
    fn a_stage_a_class_or_a_text_narrows_the_list() {
        let (lines, orders) = campaign();
        let approved = Filter { stage: Some(Stage::Approved), ..Filter::default() };
        assert_eq!(names(&progress(&lines, &orders, &approved)), ["张三"]);
        let class = Filter { class: Some("二班".into()), ..Filter::default() };
        assert_eq!(names(&progress(&lines, &orders, &class)), ["王五", "赵六"]);
        let text = Filter { text: Some("李".into()), ..Filter::default() };
        assert_eq!(names(&progress(&lines, &orders, &text)), ["李四"]);
        let number = Filter { text: Some("2023999".into()), numbered_entry: Some("e3".into()), ..Filter::default() };
        assert_eq!(names(&progress(&lines, &orders, &number)), ["王五"]);
    }

    #[test]
    fn a_student_collected_offline_is_counted_as_such_and_not_chased() {
        let (mut lines, orders) = campaign();
        lines[3].collected_offline = true;
        let p = progress(&lines, &orders, &Filter::default());
        assert_eq!((p.by_stage[&Stage::CollectedOffline], p.by_stage[&Stage::NotVerified]), (1, 0));
        assert_eq!(names(&p), ["李四", "王五"], "nobody chases a student collected offline");
        let two = &p.groups[&("数学学院".into(), "数学".into(), "二班".into())];
        assert_eq!((two.total, two.done), (2, 1), "they count as done for their class");
        let wanted = Filter { stage: Some(Stage::CollectedOffline), ..Filter::default() };
        assert_eq!(names(&progress(&lines, &orders, &wanted)), ["赵六"]);
    }

    #[test]
    fn the_list_stops_at_its_limit_and_says_how_many_match() {
        let lines: Vec<_> = (0..MAX_LISTED + 7).map(|i| line(&format!("e{i}"), "同学", "一班", None)).collect();
        let none = HashMap::new();
        let p = progress(&lines, &none, &Filter::default());
        assert_eq!((p.listed.len(), p.matching), (MAX_LISTED, MAX_LISTED + 7));
    }
}
