//! Exit codes: which errors are the user's to fix (2) and which are the pipeline's (1).

use gstpipe_core::Error as CoreError;
use gstpipe_sinks::SinkError;

/// An error in how gstpipe was called (exit status 2), with a message saying what to change.
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// Returns a usage error (exit status 2) with `message`.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    Usage(message.into()).into()
}

/// 2 for usage errors, pipeline syntax errors, unknown elements and elements that are not
/// there; 1 for everything else (the pipeline failed, timed out, a file could not be written).
pub fn exit_code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.is::<Usage>() {
            return 2;
        }
        if let Some(e) = cause.downcast_ref::<CoreError>() {
            return core_code(e);
        }
        if let Some(SinkError::Pipeline(e)) = cause.downcast_ref::<SinkError>() {
            return core_code(e);
        }
    }
    1
}

fn core_code(err: &CoreError) -> u8 {
    match err {
        CoreError::Parse { .. }
        | CoreError::MissingElement { .. }
        | CoreError::NoSuchElement { .. }
        | CoreError::WrongElementType { .. }
        | CoreError::NoElementOfType { .. }
        | CoreError::Ambiguous { .. } => 2,
        _ => 1,
    }
}

/// Whether the error is stdout going away (`gstpipe launch | head`): not worth reporting.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_and_syntax_errors_exit_2_others_1() {
        assert_eq!(exit_code(&usage("bad flag")), 2);
        let parse = anyhow::Error::from(CoreError::Parse {
            description: "videotestsrc ! !".into(),
            message: "syntax error".into(),
        });
        assert_eq!(exit_code(&parse.context("cannot build the pipeline")), 2);
        let missing = anyhow::Error::from(CoreError::MissingElement {
            factory: "nosuch".into(),
            description: "nosuch ! fakesink".into(),
        });
        assert_eq!(exit_code(&missing), 2);
        gst::init().unwrap();
        let element = anyhow::Error::from(CoreError::Element(gstpipe_core::ElementError::new(
            "filesrc0",
            gst::glib::Error::new(gst::ResourceError::NotFound, "Resource not found."),
        )));
        assert_eq!(exit_code(&element), 1);
        assert_eq!(exit_code(&anyhow::anyhow!("anything else")), 1);
    }

    #[test]
    fn broken_pipe_is_recognised_through_context() {
        let err = anyhow::Error::from(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
            .context("cannot write to stdout");
        assert!(is_broken_pipe(&err));
        assert!(!is_broken_pipe(&anyhow::anyhow!("other")));
    }
}
