//! minhu's integration tests, built as one test binary.
//!
//! Each file beside this one is a module here rather than a test binary of its own: the ~40
//! binaries each linked the whole server (75 MB apiece, 3 GB in all, and a CI machine short of
//! disk killed the linker), and each compiled the same generic handlers again. Run one file's
//! tests with `cargo test -p minhu --test suite api_search::`.

mod browser;
mod support;
mod web_support;

mod api_admin;
mod api_attachments;
mod api_auth;
mod api_bad_input;
mod api_calendar;
mod api_knowledge;
mod api_list;
mod api_merge;
mod api_openapi;
mod api_orders;
mod api_queues;
mod api_race;
mod api_scope;
mod api_search;
mod bench;
mod browser_export;
mod browser_intake_admin;
mod browser_knowledge;
mod browser_login;
mod browser_queues;
mod browser_walk;
mod cli;
mod demo;
mod durability;
mod generate;
mod repeats_labelled;
mod service_reference;
mod storage_deferred_indexes;
mod storage_direct_reads;
mod storage_group_commit;
mod storage_group_transitions;
mod storage_index_merge;
mod storage_knowledge;
mod storage_orders;
mod storage_org;
mod storage_parity;
mod storage_reads;
mod storage_search;
mod storage_transition_columns;
mod web_admin;
mod web_admin_catalogue;
mod web_announcements;
mod web_attachments;
mod web_csp;
mod web_export;
mod web_inbox;
mod web_intake;
mod web_knowledge;
mod web_pages;
mod web_queues;
mod web_review_visit;
