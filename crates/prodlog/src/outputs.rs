//! The preset's files and network destinations as sinks of the JSON layer: the files are
//! opened first, because the OTLP destination uses the main file as its spool (one
//! `Spooled` sink writes the file, then the destination with the line's number).

use prodlog_format::JsonLayer;
use prodlog_writer::Writer;
use tracing_core::LevelFilter;

use crate::file::{open_files, FileSink};
use crate::settings::{Problem, Settings};

/// A network destination started: its level, itself, and whether the main file is its
/// spool.
#[cfg(feature = "network")]
pub(crate) type Started = (LevelFilter, prodlog_ship::Shipper, bool);
#[cfg(not(feature = "network"))]
pub(crate) type Started = (LevelFilter, crate::network::Shipper, bool);

/// `json` with the files and network destinations of `settings` added; the writers (for
/// the guard), the most verbose level a file takes, and the destinations started.
pub(crate) fn add_outputs(
    mut json: JsonLayer,
    settings: &Settings,
    problems: &mut Vec<Problem>,
) -> (JsonLayer, Vec<Writer>, LevelFilter, Vec<Started>) {
    let mut files = Vec::new();
    let mut files_level = LevelFilter::OFF;
    let opened = match &settings.dir {
        Some(dir) => open_files(
            dir,
            &settings.app,
            settings.error_file,
            &settings.files,
            settings.network.spools(settings.file_level),
            problems,
        ),
        None => Vec::new(),
    };
    // The main file (the first one), at the level it is written at.
    let main_file = opened
        .first()
        .map(|(w, level)| (w.clone(), (*level).min(settings.file_level)));
    let shippers = settings.network.start(main_file.as_ref(), problems);
    #[cfg(feature = "network")]
    let mut spooled = false;
    #[cfg(feature = "network")]
    for (level, shipper, spools) in &shippers {
        match (&main_file, spools) {
            (Some((writer, file_level)), true) => {
                spooled = true;
                let sink = prodlog_ship::Spooled::new(
                    writer.clone(),
                    *file_level,
                    shipper.clone(),
                    *level,
                );
                json = json.with_sink((*level).max(*file_level), sink);
            }
            _ => json = json.with_sink(*level, shipper.clone()),
        }
    }
    #[cfg(not(feature = "network"))]
    let spooled = false;
    for (i, (writer, level)) in opened.into_iter().enumerate() {
        files_level = files_level.max(level);
        // The main file is written through its spooled sink.
        if i > 0 || !spooled {
            json = json.with_sink(level.min(settings.file_level), FileSink(writer.clone()));
        }
        files.push(writer);
    }
    (json, files, files_level, shippers)
}
