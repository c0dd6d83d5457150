//! `kiosk stats report`: the figures of a fixed, hand-built event set worked out by hand, the
//! Markdown, CSV and JSON as snapshots, and the XLSX read back with calamine.

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use expect_test::expect;
use kiosk::content::Date;
use kiosk::stats::report::{self, Period, Report};
use kiosk::stats::{EndReason, Event, EventKind};

/// The hall is in UTC+8.
const OFFSET: i32 = 480;

fn date(text: &str) -> Date {
    text.parse().unwrap()
}

/// A local time of the hall as milliseconds since 1970 UTC.
fn local(day: &str, hour: i64, minute: i64) -> i64 {
    (date(day).days_since_epoch() * 24 * 60 + hour * 60 + minute - i64::from(OFFSET)) * 60_000
}

#[derive(Default)]
struct Events(Vec<Event>);

impl Events {
    fn push(&mut self, at_ms: i64, kind: EventKind) -> &mut Self {
        let seq = self.0.len() as u64 + 1;
        self.0.push(Event {
            id: format!("{seq:032x}"),
            terminal: "t1".into(),
            seq,
            at_ms,
            kind,
        });
        self
    }
}

fn start(session: &str) -> EventKind {
    EventKind::SessionStart {
        session: session.into(),
    }
}

fn end(session: &str, active_ms: u64) -> EventKind {
    EventKind::SessionEnd {
        session: session.into(),
        reason: EndReason::Idle,
        active_ms,
    }
}

fn search(session: &str, query: &str, results: u64) -> EventKind {
    EventKind::Search {
        session: session.into(),
        query: query.into(),
        kind: None,
        column: None,
        year: None,
        results,
        latency_ms: 12.5,
    }
}

fn opened(session: &str, query: &str, item: &str, title: &str) -> EventKind {
    EventKind::ResultOpened {
        session: session.into(),
        query: query.into(),
        item: item.into(),
        title: title.into(),
        rank: 1,
    }
}

fn viewed(session: &str, item: &str, title: &str, column: &str, column_name: &str) -> EventKind {
    EventKind::ItemViewed {
        session: session.into(),
        item: item.into(),
        title: title.into(),
        column: column.into(),
        column_name: column_name.into(),
        dwell_ms: 30_000,
    }
}

fn qr(session: &str, item: &str, title: &str, code: &str) -> EventKind {
    EventKind::QrShown {
        session: session.into(),
        item: item.into(),
        title: title.into(),
        code: code.into(),
    }
}

const LICENCE: (&str, &str) = ("g-1", "营业执照设立登记");
const CARD: (&str, &str) = ("s-1", "社保卡申领");

/// Two days, Monday 2026-03-02 and Tuesday 2026-03-03, with events just outside on both sides.
fn fixed_events() -> Vec<Event> {
    let mut e = Events::default();
    // Sunday evening, local: outside the period.
    let sun = |h, m| local("2026-03-01", h, m);
    e.push(sun(23, 30), start("s0"))
        .push(sun(23, 31), search("s0", "营业执照", 0))
        .push(sun(23, 45), end("s0", 900_000));

    // Monday 07:55 local is Sunday 23:55 UTC: inside, because days are local.
    let mon = |h, m| local("2026-03-02", h, m);
    e.push(
        mon(6, 0),
        EventKind::Started {
            program: "0.1.0".into(),
            content_seq: Some(11),
            content_version: Some("2026年3月第1版".into()),
        },
    )
    .push(mon(7, 55), start("s1"))
    .push(mon(7, 56), search("s1", "营业执照", 3))
    .push(mon(7, 56), opened("s1", "营业执照", LICENCE.0, LICENCE.1))
    .push(
        mon(7, 57),
        viewed("s1", LICENCE.0, LICENCE.1, "scjg", "市场监管"),
    )
    .push(mon(7, 57), qr("s1", LICENCE.0, LICENCE.1, "checklist"))
    .push(mon(7, 57), qr("s1", LICENCE.0, LICENCE.1, "page"))
    .push(mon(7, 58), end("s1", 120_000));

    e.push(mon(9, 40), start("s2"))
        .push(
            mon(9, 40),
            EventKind::ElderMode {
                session: "s2".into(),
                on: true,
            },
        )
        .push(mon(9, 41), search("s2", "营业执照", 0))
        .push(mon(9, 41), search("s2", "公积金提取", 0))
        .push(mon(9, 42), search("s2", "社保卡", 5))
        .push(
            mon(9, 42),
            EventKind::ColumnBrowsed {
                session: "s2".into(),
                column: "shbz".into(),
                column_name: "社会保障".into(),
            },
        )
        .push(mon(9, 42), viewed("s2", CARD.0, CARD.1, "shbz", "社会保障"))
        .push(
            mon(9, 43),
            EventKind::ElderMode {
                session: "s2".into(),
                on: false,
            },
        )
        .push(mon(9, 43), end("s2", 60_000));

    e.push(mon(14, 20), start("s3"))
        .push(
            mon(14, 20),
            EventKind::Language {
                session: "s3".into(),
                lang: "en".into(),
            },
        )
        .push(mon(14, 21), search("s3", "营业执照", 2))
        .push(
            mon(14, 22),
            viewed("s3", LICENCE.0, LICENCE.1, "scjg", "市场监管"),
        )
        .push(mon(14, 22), qr("s3", LICENCE.0, LICENCE.1, "checklist"))
        .push(
            mon(14, 24),
            EventKind::Language {
                session: "s3".into(),
                lang: "zh".into(),
            },
        )
        .push(mon(14, 25), end("s3", 300_000));

    let tue = |h, m| local("2026-03-03", h, m);
    e.push(
        tue(8, 15),
        EventKind::ContentInstalled {
            seq: 12,
            version: "2026年3月第2版".into(),
            from: "/media/usb/hall-12.kbundle".into(),
        },
    )
    .push(tue(9, 15), start("s4"))
    .push(tue(9, 16), search("s4", "公积金提取", 0))
    .push(tue(9, 16), search("s4", "社保卡", 4))
    .push(tue(9, 16), opened("s4", "社保卡", CARD.0, CARD.1))
    .push(tue(9, 17), viewed("s4", CARD.0, CARD.1, "shbz", "社会保障"))
    .push(tue(9, 17), qr("s4", CARD.0, CARD.1, "online"))
    .push(tue(9, 18), end("s4", 120_000))
    // A session that never ended (the program was killed): counted, not averaged.
    .push(tue(9, 50), start("s5"))
    .push(tue(9, 51), search("s5", "不动产登记", 0));

    // Wednesday 01:00 local is Tuesday 17:00 UTC: outside, because days are local.
    let wed = |h, m| local("2026-03-04", h, m);
    e.push(wed(1, 0), start("s6"))
        .push(wed(1, 1), search("s6", "营业执照", 5))
        .push(
            wed(1, 2),
            viewed("s6", LICENCE.0, LICENCE.1, "scjg", "市场监管"),
        )
        .push(wed(1, 2), qr("s6", LICENCE.0, LICENCE.1, "page"))
        .push(wed(1, 3), end("s6", 999_000));
    e.0
}

fn fixed_report() -> Report {
    let period = Period {
        from: date("2026-03-02"),
        to: date("2026-03-03"),
    };
    report::compute(&fixed_events(), &period, OFFSET, "政务服务大厅一号机")
}

#[test]
fn the_figures_of_a_fixed_event_set_add_up() {
    let report = fixed_report();
    let s = &report.summary;
    assert_eq!(s.sessions, 5, "s1 to s5; s0 and s6 are outside");
    assert_eq!(s.ended_sessions, 4, "s5 never ended");
    // (120 + 60 + 300 + 120) s / 4 ended sessions.
    assert_eq!(s.average_active_seconds, 150.0);
    assert_eq!((s.searches, s.zero_result_searches), (8, 4));
    assert_eq!(s.zero_result_rate, 0.5);
    assert_eq!(s.result_opens, 2);
    assert_eq!((s.item_views, s.column_opens, s.qr_codes), (4, 1, 4));
    assert_eq!(s.elder_mode_on, 1, "switching off does not count");
    assert_eq!(s.english_switches, 1, "switching to Chinese does not count");

    let searches: Vec<(&str, u64, u64)> = report
        .top_searches
        .iter()
        .map(|c| (c.query.as_str(), c.searches, c.zero_results))
        .collect();
    assert_eq!(
        searches,
        [
            ("营业执照", 3, 1),
            ("公积金提取", 2, 2),
            ("社保卡", 2, 0),
            ("不动产登记", 1, 1)
        ]
    );
    let missing: Vec<(&str, u64)> = report
        .top_zero_result_searches
        .iter()
        .map(|c| (c.query.as_str(), c.zero_results))
        .collect();
    assert_eq!(
        missing,
        [("公积金提取", 2), ("不动产登记", 1), ("营业执照", 1)],
        "ties by query, in code point order"
    );

    let columns: Vec<(&str, u64, u64)> = report
        .views_by_column
        .iter()
        .map(|c| (c.column_name.as_str(), c.item_views, c.opened))
        .collect();
    assert_eq!(columns, [("社会保障", 2, 1), ("市场监管", 2, 0)]);
    let items: Vec<(&str, u64)> = report
        .top_items
        .iter()
        .map(|v| (v.item.as_str(), v.views))
        .collect();
    assert_eq!(items, [("g-1", 2), ("s-1", 2)]);
    let codes: Vec<(&str, u64)> = report
        .qr_codes
        .iter()
        .map(|q| (q.item.as_str(), q.total))
        .collect();
    assert_eq!(codes, [("g-1", 3), ("s-1", 1)]);
    assert_eq!(report.qr_codes[0].by_code["checklist"], 2);

    // Monday = 0, local hours.
    let hours = &report.busiest_hours;
    assert_eq!(
        hours[0][7], 1,
        "s1 at 07:55 on Monday (23:55 UTC on Sunday)"
    );
    assert_eq!(hours[0][9], 1);
    assert_eq!(hours[0][14], 1);
    assert_eq!(
        hours[1][9], 2,
        "s4 and s5 on Tuesday between 09:00 and 10:00"
    );
    assert_eq!(hours[6][23], 0, "s0 is before the period");
    assert_eq!(hours[2][1], 0, "s6 is after the period");
    assert_eq!(hours.iter().flatten().sum::<u64>(), 5);

    assert_eq!(report.content_versions.len(), 1);
    assert_eq!(report.content_versions[0].local_time, "2026-03-03 08:15");
}

#[test]
fn a_period_without_events_reports_zeros_and_empty_sections() {
    let period = Period {
        from: date("2025-01-01"),
        to: date("2025-01-31"),
    };
    let report = report::compute(&fixed_events(), &period, OFFSET, "t1");
    assert_eq!(report.summary.sessions, 0);
    assert_eq!(report.summary.average_active_seconds, 0.0);
    assert_eq!(report.summary.zero_result_rate, 0.0);
    let markdown = report::to_markdown(&report);
    assert!(markdown.contains("| 无结果检索占比 | 0.0% |"), "{markdown}");
    assert_eq!(markdown.matches("（无）").count(), 7, "{markdown}");
    assert!(report::to_xlsx(&report).is_ok());
}

#[test]
fn the_period_selects_the_events_of_the_store() {
    let period = Period {
        from: date("2026-03-02"),
        to: date("2026-03-03"),
    };
    let (from_ms, to_ms) = period.utc_range_ms(OFFSET);
    let events = fixed_events();
    let inside: Vec<Event> = events
        .iter()
        .filter(|e| (from_ms..to_ms).contains(&e.at_ms))
        .cloned()
        .collect();
    assert_eq!(
        report::compute(&inside, &period, OFFSET, "t1"),
        report::compute(&events, &period, OFFSET, "t1")
    );
}

#[test]
fn markdown_report_in_chinese() {
    expect![[r#"
        # 自助查询终端使用情况报告

        - 终端：政务服务大厅一号机
        - 统计期间：2026-03-02 至 2026-03-03（当地时间 UTC+08:00）

        ## 总体情况

        | 指标 | 数值 |
        | --- | ---: |
        | 访问人次 | 5 |
        | 平均使用时长 | 2 分 30 秒 |
        | 检索次数 | 8 |
        | 无结果检索次数 | 4 |
        | 无结果检索占比 | 50.0% |
        | 打开结果次数 | 2 |
        | 事项浏览次数 | 4 |
        | 栏目打开次数 | 1 |
        | 二维码取用次数 | 4 |
        | 长辈模式使用次数 | 1 |
        | 切换英文界面次数 | 1 |

        ## 热门检索

        | 排名 | 检索词 | 检索次数 | 其中无结果 |
        | ---: | --- | ---: | ---: |
        | 1 | 营业执照 | 3 | 1 |
        | 2 | 公积金提取 | 2 | 2 |
        | 3 | 社保卡 | 2 | 0 |
        | 4 | 不动产登记 | 1 | 1 |

        ## 无结果检索（待补充内容）

        | 排名 | 检索词 | 无结果次数 | 检索次数 |
        | ---: | --- | ---: | ---: |
        | 1 | 公积金提取 | 2 | 2 |
        | 2 | 不动产登记 | 1 | 1 |
        | 3 | 营业执照 | 1 | 3 |

        ## 各栏目浏览量

        | 栏目 | 事项浏览次数 | 栏目打开次数 |
        | --- | ---: | ---: |
        | 社会保障 | 2 | 1 |
        | 市场监管 | 2 | 0 |

        ## 热门事项

        | 排名 | 事项名称 | 编号 | 浏览次数 |
        | ---: | --- | --- | ---: |
        | 1 | 营业执照设立登记 | g-1 | 2 |
        | 2 | 社保卡申领 | s-1 | 2 |

        ## 二维码取用

        | 事项名称 | 编号 | 合计 | 事项页面 | 材料清单 | 网上办理 |
        | --- | --- | ---: | ---: | ---: | ---: |
        | 营业执照设立登记 | g-1 | 3 | 1 | 2 | 0 |
        | 社保卡申领 | s-1 | 1 | 0 | 0 | 1 |

        ## 繁忙时段

        按访问开始时间统计的访问人次（当地时间）。

        | 时段 | 周一 | 周二 | 周三 | 周四 | 周五 | 周六 | 周日 | 合计 |
        | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
        | 07:00 | 1 | 0 | 0 | 0 | 0 | 0 | 0 | 1 |
        | 08:00 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |
        | 09:00 | 1 | 2 | 0 | 0 | 0 | 0 | 0 | 3 |
        | 10:00 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |
        | 11:00 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |
        | 12:00 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |
        | 13:00 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |
        | 14:00 | 1 | 0 | 0 | 0 | 0 | 0 | 0 | 1 |
        | 合计 | 3 | 2 | 0 | 0 | 0 | 0 | 0 | 5 |

        ## 内容版本记录

        | 安装时间 | 版本 | 序号 | 来源 |
        | --- | --- | ---: | --- |
        | 2026-03-03 08:15 | 2026年3月第2版 | 12 | /media/usb/hall-12.kbundle |
    "#]]
    .assert_eq(&report::to_markdown(&fixed_report()));
}

#[test]
fn csv_report_is_one_filterable_table() {
    let csv = report::to_csv(&fixed_report());
    assert!(csv.starts_with("\u{feff}section,key,detail,value\r\n"));
    assert_eq!(csv.matches("\r\n").count(), csv.matches('\n').count());
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("busiest,")).count(),
        7 * 24
    );
    // The busiest cells with no sessions are counted above and left out of the snapshot.
    let shown: Vec<&str> = lines
        .into_iter()
        .filter(|l| !(l.starts_with("busiest,") && l.ends_with(",0")))
        .collect();
    expect![[r#"
        section,key,detail,value
        report,terminal,,政务服务大厅一号机
        report,from,,2026-03-02
        report,to,,2026-03-03
        report,utc_offset_minutes,,480
        summary,sessions,,5
        summary,ended_sessions,,4
        summary,average_active_seconds,,150.0
        summary,searches,,8
        summary,zero_result_searches,,4
        summary,zero_result_percent,,50.0
        summary,result_opens,,2
        summary,item_views,,4
        summary,column_opens,,1
        summary,qr_codes,,4
        summary,elder_mode_on,,1
        summary,english_switches,,1
        top_search,营业执照,zero:1,3
        top_search,公积金提取,zero:2,2
        top_search,社保卡,zero:0,2
        top_search,不动产登记,zero:1,1
        zero_search,公积金提取,searches:2,2
        zero_search,不动产登记,searches:1,1
        zero_search,营业执照,searches:3,1
        column,社会保障,opened:1,2
        column,市场监管,opened:0,2
        top_item,营业执照设立登记,g-1,2
        top_item,社保卡申领,s-1,2
        qr,营业执照设立登记,g-1/checklist,2
        qr,营业执照设立登记,g-1/page,1
        qr,社保卡申领,s-1/online,1
        busiest,周一,07,1
        busiest,周一,09,1
        busiest,周一,14,1
        busiest,周二,09,2
        content_installed,2026-03-03 08:15,version:2026年3月第2版 from:/media/usb/hall-12.kbundle,12"#]].assert_eq(&shown.join("\n"));
}

#[test]
fn json_report_for_machines() {
    let mut json = report::to_json(&fixed_report());
    let hours = json
        .as_object_mut()
        .unwrap()
        .remove("busiest_hours")
        .unwrap();
    // The 7 × 24 table one weekday a line, the rest pretty-printed.
    let rows: Vec<String> = hours
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row.to_string())
        .collect();
    expect![[r#"
        [0,0,0,0,0,0,0,1,0,1,0,0,0,0,1,0,0,0,0,0,0,0,0,0]
        [0,0,0,0,0,0,0,0,0,2,0,0,0,0,0,0,0,0,0,0,0,0,0,0]
        [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]
        [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]
        [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]
        [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]
        [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]"#]]
    .assert_eq(&rows.join("\n"));
    expect![[r#"
        {
          "content_versions": [
            {
              "at_ms": 1772496900000,
              "from": "/media/usb/hall-12.kbundle",
              "local_time": "2026-03-03 08:15",
              "seq": 12,
              "version": "2026年3月第2版"
            }
          ],
          "period": {
            "from": "2026-03-02",
            "to": "2026-03-03"
          },
          "qr_codes": [
            {
              "by_code": {
                "checklist": 2,
                "page": 1
              },
              "item": "g-1",
              "title": "营业执照设立登记",
              "total": 3
            },
            {
              "by_code": {
                "online": 1
              },
              "item": "s-1",
              "title": "社保卡申领",
              "total": 1
            }
          ],
          "summary": {
            "average_active_seconds": 150.0,
            "column_opens": 1,
            "elder_mode_on": 1,
            "ended_sessions": 4,
            "english_switches": 1,
            "item_views": 4,
            "qr_codes": 4,
            "result_opens": 2,
            "searches": 8,
            "sessions": 5,
            "zero_result_rate": 0.5,
            "zero_result_searches": 4
          },
          "terminal": "政务服务大厅一号机",
          "top_items": [
            {
              "item": "g-1",
              "title": "营业执照设立登记",
              "views": 2
            },
            {
              "item": "s-1",
              "title": "社保卡申领",
              "views": 2
            }
          ],
          "top_searches": [
            {
              "query": "营业执照",
              "searches": 3,
              "zero_results": 1
            },
            {
              "query": "公积金提取",
              "searches": 2,
              "zero_results": 2
            },
            {
              "query": "社保卡",
              "searches": 2,
              "zero_results": 0
            },
            {
              "query": "不动产登记",
              "searches": 1,
              "zero_results": 1
            }
          ],
          "top_zero_result_searches": [
            {
              "query": "公积金提取",
              "searches": 2,
              "zero_results": 2
            },
            {
              "query": "不动产登记",
              "searches": 1,
              "zero_results": 1
            },
            {
              "query": "营业执照",
              "searches": 3,
              "zero_results": 1
            }
          ],
          "utc_offset_minutes": 480,
          "views_by_column": [
            {
              "column_name": "社会保障",
              "item_views": 2,
              "opened": 1
            },
            {
              "column_name": "市场监管",
              "item_views": 2,
              "opened": 0
            }
          ]
        }"#]]
    .assert_eq(&serde_json::to_string_pretty(&json).unwrap());
}

#[test]
fn xlsx_report_opens_in_a_spreadsheet_reader() {
    let bytes = report::to_xlsx(&fixed_report()).unwrap();
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    assert_eq!(
        book.sheet_names(),
        [
            "汇总",
            "热门检索",
            "无结果检索",
            "栏目浏览",
            "热门事项",
            "二维码",
            "繁忙时段",
            "内容版本"
        ]
    );

    let summary = book.worksheet_range("汇总").unwrap();
    let value = |label: &str| {
        summary
            .rows()
            .find(|row| row[0] == Data::String(label.into()))
            .map(|row| row[1].clone())
    };
    assert_eq!(value("访问人次"), Some(Data::Float(5.0)));
    assert_eq!(value("平均使用时长（秒）"), Some(Data::Float(150.0)));
    assert_eq!(value("无结果检索占比"), Some(Data::Float(0.5)));
    assert_eq!(
        value("统计期间"),
        Some(Data::String("2026-03-02 至 2026-03-03".into()))
    );

    let searches = book.worksheet_range("热门检索").unwrap();
    let row = |r: u32| -> Vec<Data> {
        (0..4)
            .map(|c| searches.get_value((r, c)).unwrap().clone())
            .collect()
    };
    assert_eq!(
        row(0),
        [
            Data::String("排名".into()),
            Data::String("检索词".into()),
            Data::String("检索次数".into()),
            Data::String("其中无结果".into())
        ]
    );
    assert_eq!(
        row(1),
        [
            Data::Float(1.0),
            Data::String("营业执照".into()),
            Data::Float(3.0),
            Data::Float(1.0)
        ]
    );

    let busiest = book.worksheet_range("繁忙时段").unwrap();
    // Row 1 is 00:00, so 09:00 is row 10; column 1 is Monday, so Tuesday is column 2.
    assert_eq!(
        busiest.get_value((10, 0)),
        Some(&Data::String("09:00".into()))
    );
    assert_eq!(busiest.get_value((10, 2)), Some(&Data::Float(2.0)));
    assert_eq!(
        busiest.get_value((25, 8)),
        Some(&Data::Float(5.0)),
        "the grand total"
    );
}
