//! Public holidays, working days and deadline arithmetic for Ho Chi Minh City.

use std::collections::{BTreeSet, HashMap};

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc, Weekday,
};
use serde::{Deserialize, Serialize};

use crate::lunar;

/// Offset of Asia/Ho_Chi_Minh from UTC. It has been a fixed UTC+7 without
/// daylight saving time since 1975, so a fixed offset is exact for any date
/// the system deals with.
pub const CITY_OFFSET_SECS: i32 = 7 * 3600;

/// The city's time zone as a chrono offset.
pub fn city_tz() -> FixedOffset {
    FixedOffset::east_opt(CITY_OFFSET_SECS).expect("UTC+7 is a valid offset")
}

/// An instant expressed in the city's local time.
pub fn to_local(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&city_tz())
}

/// The UTC instant of a local wall-clock time in the city.
fn local_to_utc(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let utc = date.and_time(time) - TimeDelta::seconds(i64::from(CITY_OFFSET_SECS));
    utc.and_utc()
}

/// A day off, with its name in Vietnamese and English.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name_vi: String,
    pub name_en: String,
}

impl Holiday {
    fn new(date: NaiveDate, name_vi: &str, name_en: &str) -> Self {
        Holiday {
            date,
            name_vi: name_vi.to_owned(),
            name_en: name_en.to_owned(),
        }
    }
}

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("fixed holiday dates exist every year")
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The public holidays of Labour Code 2019, Art. 112(1), for `year`, plus
/// the compensatory days off of Art. 112(3), sorted by date.
///
/// Defaults where the law leaves the choice to the Prime Minister (admins
/// reproduce the government's actual schedule with
/// [`Calendar::extra_days_off`] and [`Calendar::makeup_working_days`]):
///
/// * Tết (5 days): the last day of the old lunar year and days 1–4 of the
///   new one.
/// * National Day (2 days): 2 September plus the adjacent day that joins
///   the weekend: 3 September when 2 September is a Monday or a Thursday,
///   1 September otherwise. This reproduces the government's choices for
///   2021–2025.
///
/// Compensation: each holiday that falls on a Saturday or Sunday gives one
/// day off on the next weekday that is neither a holiday nor already a
/// compensatory day. Two holidays on the same date give no extra day (the
/// law only compensates for weekly rest days).
pub fn statutory_holidays(year: i32) -> Vec<Holiday> {
    let mut list = vec![Holiday::new(
        ymd(year, 1, 1),
        "Tết Dương lịch",
        "New Year's Day",
    )];

    let tet = lunar::tet(year);
    for offset in -1..=3 {
        list.push(Holiday::new(
            tet + TimeDelta::days(offset),
            "Tết Nguyên đán",
            "Lunar New Year (Tết)",
        ));
    }
    list.push(Holiday::new(
        lunar::hung_kings_day(year),
        "Giỗ Tổ Hùng Vương",
        "Hùng Kings' Commemoration Day",
    ));
    list.push(Holiday::new(
        ymd(year, 4, 30),
        "Ngày Giải phóng miền Nam, thống nhất đất nước",
        "Reunification Day",
    ));
    list.push(Holiday::new(
        ymd(year, 5, 1),
        "Ngày Quốc tế Lao động",
        "International Labour Day",
    ));

    let national_day = ymd(year, 9, 2);
    let adjacent = match national_day.weekday() {
        Weekday::Mon | Weekday::Thu => ymd(year, 9, 3),
        _ => ymd(year, 9, 1),
    };
    for date in [adjacent, national_day] {
        list.push(Holiday::new(date, "Quốc khánh", "National Day"));
    }
    list.sort_by_key(|h| h.date);

    let holiday_dates: BTreeSet<NaiveDate> = list.iter().map(|h| h.date).collect();
    let mut compensatory = BTreeSet::new();
    for &date in holiday_dates.iter().filter(|&&d| is_weekend(d)) {
        let mut day = date;
        loop {
            day = day
                .succ_opt()
                .expect("holidays are far from the end of time");
            if !is_weekend(day) && !holiday_dates.contains(&day) && !compensatory.contains(&day) {
                break;
            }
        }
        compensatory.insert(day);
    }
    list.extend(
        compensatory
            .into_iter()
            .map(|d| Holiday::new(d, "Nghỉ bù", "Compensatory day off")),
    );
    list.sort_by_key(|h| h.date);
    list
}

/// The working calendar of the city's administration.
///
/// Whether a date is a working day is decided, first rule that applies:
///
/// 1. a date in `makeup_working_days` is a working day (the government
///    moves working days onto Saturdays to build long Tết breaks; an
///    explicit order to work wins over everything else);
/// 2. a date in `extra_days_off` is not;
/// 3. Saturdays and Sundays are not;
/// 4. statutory holidays and their compensatory days
///    ([`statutory_holidays`]) are not;
/// 5. every other date is.
///
/// Office hours are `office_open..office_close` local time on working days.
/// If `office_open` is not before `office_close` the configuration is
/// meaningless and the defaults 08:00–17:00 are used instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Calendar {
    /// Additional days off decided by the government or the city (bridge
    /// days around Tết or National Day, …).
    pub extra_days_off: BTreeSet<NaiveDate>,
    /// Days worked in exchange for a bridge day, typically Saturdays.
    pub makeup_working_days: BTreeSet<NaiveDate>,
    /// End of office hours, local time; deadlines fall on it.
    pub office_close: NaiveTime,
    /// Start of office hours, local time.
    pub office_open: NaiveTime,
}

const DEFAULT_OPEN: NaiveTime = NaiveTime::from_hms_opt(8, 0, 0).unwrap();
const DEFAULT_CLOSE: NaiveTime = NaiveTime::from_hms_opt(17, 0, 0).unwrap();

impl Default for Calendar {
    fn default() -> Self {
        Calendar {
            extra_days_off: BTreeSet::new(),
            makeup_working_days: BTreeSet::new(),
            office_close: DEFAULT_CLOSE,
            office_open: DEFAULT_OPEN,
        }
    }
}

impl Calendar {
    /// The days off of `year` with their names, sorted by date: the
    /// statutory holidays and compensatory days ([`statutory_holidays`])
    /// plus the admin's extra days off of that year ("Nghỉ bổ sung").
    ///
    /// This is a listing for display; [`Calendar::is_working_day`] is the
    /// authority (a make-up working day overrides an entry here).
    pub fn holidays(&self, year: i32) -> Vec<Holiday> {
        let mut list = statutory_holidays(year);
        let listed: BTreeSet<NaiveDate> = list.iter().map(|h| h.date).collect();
        list.extend(
            self.extra_days_off
                .iter()
                .filter(|d| d.year() == year && !listed.contains(d))
                .map(|&d| Holiday::new(d, "Nghỉ bổ sung", "Additional day off")),
        );
        list.sort_by_key(|h| h.date);
        list
    }

    /// Whether `d` is a working day (see the rules on [`Calendar`]).
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        self.days().is_working_day(d)
    }

    /// The first working day strictly after `d`.
    pub fn next_working_day(&self, d: NaiveDate) -> NaiveDate {
        self.days().next_working_day(d)
    }

    /// Deadline of a time limit of `working_days` working days for a case
    /// received at `start`.
    ///
    /// Rule: the day of receipt is not counted (as for administrative time
    /// limits), so the deadline is the office close, local time, of the
    /// N-th working day after the local date of `start`, whatever the hour
    /// of receipt. With N = 0 the deadline is the close of the same day if
    /// that day is a working day and `start` is before its close, else the
    /// close of the next working day.
    pub fn due_date(&self, start: DateTime<Utc>, working_days: u32) -> DateTime<Utc> {
        let (_, close) = self.office_hours();
        let mut days = self.days();
        let local = to_local(start).naive_local();
        let mut date = local.date();
        if working_days == 0 {
            if !(days.is_working_day(date) && local.time() < close) {
                date = days.next_working_day(date);
            }
        } else {
            for _ in 0..working_days {
                date = days.next_working_day(date);
            }
        }
        local_to_utc(date, close)
    }

    /// The instant at which `hours` office hours have elapsed since `start`,
    /// counting only the time between office open and close on working
    /// days. A limit that ends exactly at a close ends at that close, not
    /// at the next opening. Zero hours returns `start` unchanged.
    pub fn add_working_hours(&self, start: DateTime<Utc>, hours: u32) -> DateTime<Utc> {
        if hours == 0 {
            return start;
        }
        let (open, close) = self.office_hours();
        let mut days = self.days();
        let mut remaining = TimeDelta::hours(i64::from(hours));
        let mut cursor: NaiveDateTime = to_local(start).naive_local();
        loop {
            let date = cursor.date();
            if !days.is_working_day(date) || cursor.time() >= close {
                cursor = days.next_working_day(date).and_time(open);
                continue;
            }
            if cursor.time() < open {
                cursor = date.and_time(open);
            }
            let available = date.and_time(close) - cursor;
            if remaining <= available {
                let end = cursor + remaining;
                return local_to_utc(end.date(), end.time());
            }
            remaining -= available;
            cursor = days.next_working_day(date).and_time(open);
        }
    }

    /// Number of working-day boundaries crossed between two instants: the
    /// working days whose office close (local time) lies in `(from, to]`.
    ///
    /// A pause within one office day counts 0; a pause from Friday 16:00 to
    /// Monday 09:00 counts 1 (Friday's close). Negative when `to < from`.
    pub fn working_days_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        if to < from {
            return -self.working_days_between(to, from);
        }
        let (_, close) = self.office_hours();
        let mut days = self.days();
        let from = to_local(from).naive_local();
        let to = to_local(to).naive_local();
        let mut count = 0;
        let mut date = from.date();
        while date <= to.date() {
            let end_of_day = date.and_time(close);
            if from < end_of_day && end_of_day <= to && days.is_working_day(date) {
                count += 1;
            }
            date = date.succ_opt().expect("dates are far from the end of time");
        }
        count
    }

    /// A due date moved forward after the clock was paused from
    /// `paused_from` to `resumed_at`.
    ///
    /// Rule: the deadline moves by whole working days, as many as
    /// [`Calendar::working_days_between`] counts for the pause (never
    /// backwards). It lands on the N-th working day after the due date's
    /// local date, keeping its local time of day (normally the office
    /// close).
    pub fn extend(
        &self,
        due: DateTime<Utc>,
        paused_from: DateTime<Utc>,
        resumed_at: DateTime<Utc>,
    ) -> DateTime<Utc> {
        let paused = self.working_days_between(paused_from, resumed_at);
        if paused <= 0 {
            return due;
        }
        let mut days = self.days();
        let local = to_local(due).naive_local();
        let mut date = local.date();
        for _ in 0..paused {
            date = days.next_working_day(date);
        }
        local_to_utc(date, local.time())
    }

    /// Office hours, falling back to the defaults if misconfigured.
    fn office_hours(&self) -> (NaiveTime, NaiveTime) {
        if self.office_open < self.office_close {
            (self.office_open, self.office_close)
        } else {
            (DEFAULT_OPEN, DEFAULT_CLOSE)
        }
    }

    fn days(&self) -> Days<'_> {
        Days {
            calendar: self,
            holidays: HashMap::new(),
        }
    }
}

/// Working-day oracle that computes each year's holidays once, since the
/// lunar dates are relatively expensive and loops ask about many days.
struct Days<'a> {
    calendar: &'a Calendar,
    holidays: HashMap<i32, std::sync::Arc<BTreeSet<NaiveDate>>>,
}

/// The statutory holiday dates of a year, computed once per process: they depend on the
/// year alone, and the lunar part is too slow to redo for every deadline.
fn statutory_holiday_dates(year: i32) -> std::sync::Arc<BTreeSet<NaiveDate>> {
    use std::sync::{Arc, Mutex, OnceLock};
    static MEMO: OnceLock<Mutex<HashMap<i32, Arc<BTreeSet<NaiveDate>>>>> = OnceLock::new();
    let memo = MEMO.get_or_init(Default::default);
    if let Some(set) = memo.lock().unwrap_or_else(|e| e.into_inner()).get(&year) {
        return set.clone();
    }
    let set: Arc<BTreeSet<NaiveDate>> = Arc::new(
        statutory_holidays(year)
            .into_iter()
            .map(|h| h.date)
            .collect(),
    );
    memo.lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(year, set.clone());
    set
}

impl Days<'_> {
    fn is_working_day(&mut self, d: NaiveDate) -> bool {
        if self.calendar.makeup_working_days.contains(&d) {
            return true;
        }
        if self.calendar.extra_days_off.contains(&d) || is_weekend(d) {
            return false;
        }
        let holidays = self
            .holidays
            .entry(d.year())
            .or_insert_with(|| statutory_holiday_dates(d.year()));
        !holidays.contains(&d)
    }

    fn next_working_day(&mut self, d: NaiveDate) -> NaiveDate {
        let mut day = d;
        loop {
            day = day.succ_opt().expect("dates are far from the end of time");
            if self.is_working_day(day) {
                return day;
            }
        }
    }
}
