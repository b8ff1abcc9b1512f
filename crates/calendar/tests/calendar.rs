//! Holidays, working days and deadline arithmetic through the public API.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Utc};
use phananh_calendar::{CITY_OFFSET_SECS, Calendar, city_tz, statutory_holidays, to_local};

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A local (UTC+7) wall-clock time as a UTC instant.
fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    city_tz()
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn days_off(cal: &Calendar, year: i32) -> Vec<NaiveDate> {
    cal.holidays(year).into_iter().map(|h| h.date).collect()
}

#[test]
fn city_time_zone_is_fixed_utc_plus_7() {
    assert_eq!(CITY_OFFSET_SECS, 25_200);
    assert_eq!(city_tz().local_minus_utc(), 25_200);
    let t = to_local(utc(2026, 2, 16, 20, 30));
    assert_eq!(t.date_naive(), ymd(2026, 2, 17));
    assert_eq!(t.time(), NaiveTime::from_hms_opt(3, 30, 0).unwrap());
}

#[test]
fn holidays_2026() {
    let cal = Calendar::default();
    let list = cal.holidays(2026);
    let names: Vec<(NaiveDate, &str)> = list.iter().map(|h| (h.date, h.name_vi.as_str())).collect();
    assert_eq!(
        names,
        vec![
            (ymd(2026, 1, 1), "Tết Dương lịch"),
            (ymd(2026, 2, 16), "Tết Nguyên đán"),
            (ymd(2026, 2, 17), "Tết Nguyên đán"),
            (ymd(2026, 2, 18), "Tết Nguyên đán"),
            (ymd(2026, 2, 19), "Tết Nguyên đán"),
            (ymd(2026, 2, 20), "Tết Nguyên đán"),
            (ymd(2026, 4, 26), "Giỗ Tổ Hùng Vương"),
            (ymd(2026, 4, 27), "Nghỉ bù"),
            (
                ymd(2026, 4, 30),
                "Ngày Giải phóng miền Nam, thống nhất đất nước"
            ),
            (ymd(2026, 5, 1), "Ngày Quốc tế Lao động"),
            // 2 September 2026 is a Wednesday: the adjacent day is 1 September.
            (ymd(2026, 9, 1), "Quốc khánh"),
            (ymd(2026, 9, 2), "Quốc khánh"),
        ]
    );
    assert!(list.iter().all(|h| !h.name_en.is_empty()));
    assert_eq!(list, statutory_holidays(2026));
}

#[test]
fn weekend_holidays_are_compensated_on_following_working_days() {
    let cal = Calendar::default();
    // Tết 2024: Fri 9 Feb – Tue 13 Feb includes Sat 10 and Sun 11, so
    // Wed 14 and Thu 15 are compensatory days off.
    let tet: Vec<NaiveDate> = cal
        .holidays(2024)
        .into_iter()
        .filter(|h| h.date.month() == 2)
        .map(|h| h.date)
        .collect();
    assert_eq!(tet, (9..=15).map(|d| ymd(2024, 2, d)).collect::<Vec<_>>());
    // 2023: Hùng Kings on Sat 29 Apr and 30 Apr on a Sunday; 1 May is a
    // holiday itself, so the compensatory days are 2 and 3 May, as decided
    // by the government that year.
    for d in [29, 30] {
        assert!(days_off(&cal, 2023).contains(&ymd(2023, 4, d)));
    }
    assert!(!cal.is_working_day(ymd(2023, 5, 2)));
    assert!(!cal.is_working_day(ymd(2023, 5, 3)));
    assert!(cal.is_working_day(ymd(2023, 5, 4)));
    // New Year's Day 2028 is a Saturday: Monday 3 January is off.
    assert!(!cal.is_working_day(ymd(2028, 1, 3)));
    assert!(
        cal.holidays(2028)
            .iter()
            .any(|h| h.date == ymd(2028, 1, 3) && h.name_vi == "Nghỉ bù")
    );
}

#[test]
fn national_day_adjacent_day_matches_recent_government_choices() {
    let cal = Calendar::default();
    let national = |year| -> Vec<NaiveDate> {
        cal.holidays(year)
            .into_iter()
            .filter(|h| h.name_vi == "Quốc khánh")
            .map(|h| h.date)
            .collect()
    };
    assert_eq!(national(2021), vec![ymd(2021, 9, 2), ymd(2021, 9, 3)]); // Thu
    assert_eq!(national(2022), vec![ymd(2022, 9, 1), ymd(2022, 9, 2)]); // Fri
    assert_eq!(national(2023), vec![ymd(2023, 9, 1), ymd(2023, 9, 2)]); // Sat
    assert_eq!(national(2024), vec![ymd(2024, 9, 2), ymd(2024, 9, 3)]); // Mon
    assert_eq!(national(2025), vec![ymd(2025, 9, 1), ymd(2025, 9, 2)]); // Tue
    // 2023: Saturday 2 September is compensated on Monday 4 September.
    assert!(!cal.is_working_day(ymd(2023, 9, 4)));
}

#[test]
fn weekends_are_not_working_days() {
    let cal = Calendar::default();
    assert!(cal.is_working_day(ymd(2025, 6, 6))); // Friday
    assert!(!cal.is_working_day(ymd(2025, 6, 7))); // Saturday
    assert!(!cal.is_working_day(ymd(2025, 6, 8))); // Sunday
    assert!(cal.is_working_day(ymd(2025, 6, 9))); // Monday
    assert_eq!(cal.next_working_day(ymd(2025, 6, 6)), ymd(2025, 6, 9));
}

#[test]
fn five_working_days_from_friday_end_next_friday_at_close() {
    let cal = Calendar::default();
    let due = cal.due_date(local(2025, 6, 6, 10, 0), 5);
    assert_eq!(due, local(2025, 6, 13, 17, 0));
    // Stored in UTC: 17:00 local is 10:00 UTC.
    assert_eq!(due, utc(2025, 6, 13, 10, 0));
    // The hour of receipt does not matter, even after close.
    assert_eq!(cal.due_date(local(2025, 6, 6, 23, 59), 5), due);
    assert_eq!(cal.due_date(local(2025, 6, 6, 0, 0), 5), due);
}

#[test]
fn receipt_at_local_date_boundary_uses_local_date() {
    let cal = Calendar::default();
    // 18:00 UTC on Thursday is 01:00 local on Friday.
    let due = cal.due_date(utc(2025, 6, 5, 18, 0), 1);
    assert_eq!(due, local(2025, 6, 9, 17, 0));
}

#[test]
fn deadline_skips_tet_2026() {
    let cal = Calendar::default();
    for d in 16..=20 {
        assert!(!cal.is_working_day(ymd(2026, 2, d)), "2026-02-{d}");
    }
    // Thu 12 Feb: Fri 13 (1), holiday week, Mon 23 (2) ... Thu 26 (5).
    let due = cal.due_date(local(2026, 2, 12, 9, 0), 5);
    assert_eq!(due, local(2026, 2, 26, 17, 0));
}

#[test]
fn hung_kings_2026_is_compensated_on_monday() {
    let cal = Calendar::default();
    assert!(!cal.is_working_day(ymd(2026, 4, 26)));
    assert!(!cal.is_working_day(ymd(2026, 4, 27)));
    // Fri 24 Apr + 1 working day: Mon 27 is off, so Tue 28.
    assert_eq!(
        cal.due_date(local(2026, 4, 24, 9, 0), 1),
        local(2026, 4, 28, 17, 0)
    );
}

#[test]
fn reunification_and_labour_day_are_skipped() {
    let cal = Calendar::default();
    assert!(!cal.is_working_day(ymd(2026, 4, 30)));
    assert!(!cal.is_working_day(ymd(2026, 5, 1)));
    // Fri 24 Apr + 3: Tue 28 (1), Wed 29 (2), 30/4, 1/5, weekend, Mon 4 May (3).
    assert_eq!(
        cal.due_date(local(2026, 4, 24, 9, 0), 3),
        local(2026, 5, 4, 17, 0)
    );
}

#[test]
fn makeup_saturday_counts_as_a_working_day() {
    let mut cal = Calendar::default();
    cal.makeup_working_days.insert(ymd(2025, 6, 7));
    assert!(cal.is_working_day(ymd(2025, 6, 7)));
    assert_eq!(
        cal.due_date(local(2025, 6, 6, 10, 0), 1),
        local(2025, 6, 7, 17, 0)
    );
    assert_eq!(
        cal.due_date(local(2025, 6, 6, 10, 0), 5),
        local(2025, 6, 12, 17, 0)
    );
}

#[test]
fn extra_day_off_is_skipped() {
    let mut cal = Calendar::default();
    cal.extra_days_off.insert(ymd(2025, 6, 9));
    assert!(!cal.is_working_day(ymd(2025, 6, 9)));
    assert_eq!(
        cal.due_date(local(2025, 6, 6, 10, 0), 1),
        local(2025, 6, 10, 17, 0)
    );
    assert!(
        cal.holidays(2025)
            .iter()
            .any(|h| h.date == ymd(2025, 6, 9) && h.name_vi == "Nghỉ bổ sung")
    );
}

#[test]
fn makeup_day_wins_over_everything() {
    let mut cal = Calendar::default();
    cal.makeup_working_days.insert(ymd(2026, 2, 16));
    cal.extra_days_off.insert(ymd(2026, 2, 16));
    assert!(cal.is_working_day(ymd(2026, 2, 16)));
}

#[test]
fn zero_day_deadline() {
    let cal = Calendar::default();
    // Working day, before close: same day.
    assert_eq!(
        cal.due_date(local(2025, 6, 6, 16, 59), 0),
        local(2025, 6, 6, 17, 0)
    );
    // At or after close: next working day.
    assert_eq!(
        cal.due_date(local(2025, 6, 6, 17, 0), 0),
        local(2025, 6, 9, 17, 0)
    );
    // Weekend: next working day.
    assert_eq!(
        cal.due_date(local(2025, 6, 7, 9, 0), 0),
        local(2025, 6, 9, 17, 0)
    );
}

#[test]
fn working_hours_count_office_time_only() {
    let cal = Calendar::default();
    // Friday 15:00 + 4 h: 2 h on Friday, 2 h on Monday from 08:00.
    assert_eq!(
        cal.add_working_hours(local(2025, 6, 6, 15, 0), 4),
        local(2025, 6, 9, 10, 0)
    );
    // Ending exactly at close stays on that day.
    assert_eq!(
        cal.add_working_hours(local(2025, 6, 6, 15, 0), 2),
        local(2025, 6, 6, 17, 0)
    );
    // Before opening: the count starts at 08:00.
    assert_eq!(
        cal.add_working_hours(local(2025, 6, 9, 6, 0), 8),
        local(2025, 6, 9, 16, 0)
    );
    // After close and over a weekend.
    assert_eq!(
        cal.add_working_hours(local(2025, 6, 6, 20, 0), 1),
        local(2025, 6, 9, 9, 0)
    );
    // A whole office day is 9 h; 24 h = 2 days + 6 h.
    assert_eq!(
        cal.add_working_hours(local(2025, 6, 9, 8, 0), 24),
        local(2025, 6, 11, 14, 0)
    );
    // Across Tết 2026: Fri 13 Feb 16:00 + 2 h ends Mon 23 Feb 09:00.
    assert_eq!(
        cal.add_working_hours(local(2026, 2, 13, 16, 0), 2),
        local(2026, 2, 23, 9, 0)
    );
    // Zero hours: unchanged.
    let t = local(2025, 6, 7, 3, 0);
    assert_eq!(cal.add_working_hours(t, 0), t);
}

#[test]
fn custom_office_hours() {
    let cal = Calendar {
        office_open: NaiveTime::from_hms_opt(7, 30, 0).unwrap(),
        office_close: NaiveTime::from_hms_opt(16, 30, 0).unwrap(),
        ..Calendar::default()
    };
    assert_eq!(
        cal.due_date(local(2025, 6, 6, 10, 0), 1),
        local(2025, 6, 9, 16, 30)
    );
    assert_eq!(
        cal.add_working_hours(local(2025, 6, 6, 16, 0), 1),
        local(2025, 6, 9, 8, 0)
    );
    // Misconfigured hours fall back to 08:00–17:00.
    let broken = Calendar {
        office_open: NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
        office_close: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        ..Calendar::default()
    };
    assert_eq!(
        broken.add_working_hours(local(2025, 6, 6, 16, 0), 2),
        local(2025, 6, 9, 9, 0)
    );
}

#[test]
fn working_days_between_counts_closes_crossed() {
    let cal = Calendar::default();
    // Within one office day.
    assert_eq!(
        cal.working_days_between(local(2025, 6, 9, 9, 0), local(2025, 6, 9, 16, 0)),
        0
    );
    // Monday 10:00 to Tuesday 10:00: Monday's close.
    assert_eq!(
        cal.working_days_between(local(2025, 6, 9, 10, 0), local(2025, 6, 10, 10, 0)),
        1
    );
    // Friday 16:00 to Monday 09:00: only Friday's close (weekend skipped).
    assert_eq!(
        cal.working_days_between(local(2025, 6, 6, 16, 0), local(2025, 6, 9, 9, 0)),
        1
    );
    // Evening to next morning: no close crossed.
    assert_eq!(
        cal.working_days_between(local(2025, 6, 9, 18, 0), local(2025, 6, 10, 7, 0)),
        0
    );
    // A close at the very end counts.
    assert_eq!(
        cal.working_days_between(local(2025, 6, 9, 9, 0), local(2025, 6, 9, 17, 0)),
        1
    );
    // Over Tết 2026: Thu 12 and Fri 13 Feb, then Mon 23 Feb.
    assert_eq!(
        cal.working_days_between(local(2026, 2, 12, 9, 0), local(2026, 2, 23, 18, 0)),
        3
    );
    // Reversed arguments give the negated count.
    assert_eq!(
        cal.working_days_between(local(2025, 6, 10, 10, 0), local(2025, 6, 9, 10, 0)),
        -1
    );
}

#[test]
fn extend_moves_due_date_by_paused_working_days() {
    let cal = Calendar::default();
    let due = local(2025, 6, 13, 17, 0); // Friday
    // Paused two working days (Mon and Tue closes): due moves to Tue 17 June.
    let extended = cal.extend(due, local(2025, 6, 9, 10, 0), local(2025, 6, 11, 10, 0));
    assert_eq!(extended, local(2025, 6, 17, 17, 0));
    // A short pause does not move it.
    assert_eq!(
        cal.extend(due, local(2025, 6, 9, 10, 0), local(2025, 6, 9, 11, 0)),
        due
    );
    // Nor does a reversed interval.
    assert_eq!(
        cal.extend(due, local(2025, 6, 11, 10, 0), local(2025, 6, 9, 10, 0)),
        due
    );
    // The extension skips holidays: due Thu 12 Feb 2026, paused 1 day.
    let due = local(2026, 2, 12, 17, 0);
    let extended = cal.extend(due, local(2026, 2, 10, 9, 0), local(2026, 2, 11, 9, 0));
    assert_eq!(extended, local(2026, 2, 13, 17, 0));
    let extended = cal.extend(due, local(2026, 2, 9, 9, 0), local(2026, 2, 11, 9, 0));
    assert_eq!(extended, local(2026, 2, 23, 17, 0));
}

#[test]
fn calendar_serde_round_trip_and_defaults() {
    let mut cal = Calendar::default();
    cal.extra_days_off.insert(ymd(2026, 2, 14));
    cal.makeup_working_days.insert(ymd(2026, 2, 28));
    let json = serde_json::to_string(&cal).unwrap();
    let back: Calendar = serde_json::from_str(&json).unwrap();
    assert_eq!(back, cal);
    // Missing fields take their defaults.
    let partial: Calendar = serde_json::from_str(r#"{"extra_days_off":["2026-02-14"]}"#).unwrap();
    assert_eq!(
        partial.office_close,
        NaiveTime::from_hms_opt(17, 0, 0).unwrap()
    );
    assert_eq!(
        partial.office_open,
        NaiveTime::from_hms_opt(8, 0, 0).unwrap()
    );
    assert!(partial.makeup_working_days.is_empty());
    assert_eq!(partial.extra_days_off.len(), 1);
}
