//! Presentation order from decode order, for streams whose container gives decode-order
//! times only (AVI, MPEG program streams, raw elementary streams): the picture types of
//! MPEG-1/2 and MPEG-4 Part 2 video say where each B-frame goes.
//!
//! In these codecs an anchor picture (I or P) is shown after the B-pictures that follow it in
//! decode order; a B-picture is shown as soon as it is decoded. So the presentation order is
//! decode order with every anchor moved past the run of B-pictures after it.

/// A codec whose picture types this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MpegVideo {
    /// MPEG-1 or MPEG-2 video (`video/mpeg, mpegversion=(1|2)`).
    Mpeg12,
    /// MPEG-4 Part 2 (`video/mpeg, mpegversion=4`, `video/x-divx`, `video/x-xvid`).
    Mpeg4,
}

impl MpegVideo {
    /// The codec of a compressed stream's caps, when it is one of these.
    pub fn from_caps(caps: &gst::CapsRef) -> Option<MpegVideo> {
        let s = caps.structure(0)?;
        match s.name().as_str() {
            "video/mpeg" => match s.get::<i32>("mpegversion").ok()? {
                1 | 2 => Some(MpegVideo::Mpeg12),
                4 => Some(MpegVideo::Mpeg4),
                _ => None,
            },
            "video/x-divx" | "video/x-xvid" => Some(MpegVideo::Mpeg4),
            _ => None,
        }
    }

    /// The type of the first picture in `data` (one access unit).
    pub fn picture(self, data: &[u8]) -> Picture {
        // MPEG-1/2: picture_start_code 00 00 01 00, 10 bits temporal_reference, 3 bits
        // picture_coding_type (1 I, 2 P, 3 B, 4 D). MPEG-4 Part 2: vop_start_code 00 00 01 B6,
        // 2 bits vop_coding_type (0 I, 1 P, 2 B, 3 S).
        let code = match self {
            MpegVideo::Mpeg12 => 0x00,
            MpegVideo::Mpeg4 => 0xB6,
        };
        let Some(at) = data.windows(4).position(|w| w == [0, 0, 1, code]) else {
            return Picture::Unknown;
        };
        match self {
            MpegVideo::Mpeg12 => match data.get(at + 5).map(|b| (b >> 3) & 7) {
                Some(1 | 2 | 4) => Picture::Anchor,
                Some(3) => Picture::Bidirectional,
                _ => Picture::Unknown,
            },
            MpegVideo::Mpeg4 => match data.get(at + 4).map(|b| b >> 6) {
                Some(0 | 1 | 3) => Picture::Anchor,
                Some(2) => Picture::Bidirectional,
                _ => Picture::Unknown,
            },
        }
    }
}

/// A picture's role in reordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Picture {
    /// I or P (or D, S): shown after the B-pictures that follow it in decode order.
    Anchor,
    /// B: shown as soon as it is decoded.
    Bidirectional,
    /// Not an MPEG video access unit this module reads.
    Unknown,
}

/// For pictures in decode order, each one's position in presentation order; `None` when a
/// type is unknown.
pub(crate) fn presentation_positions(pictures: &[Picture]) -> Option<Vec<usize>> {
    let mut positions = vec![0; pictures.len()];
    let mut shown = 0;
    let mut pending: Option<usize> = None;
    for (d, picture) in pictures.iter().enumerate() {
        match picture {
            Picture::Unknown => return None,
            Picture::Bidirectional => {
                positions[d] = shown;
                shown += 1;
            }
            Picture::Anchor => {
                if let Some(p) = pending.replace(d) {
                    positions[p] = shown;
                    shown += 1;
                }
            }
        }
    }
    if let Some(p) = pending {
        positions[p] = shown;
    }
    Some(positions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_move_past_their_b_frames() {
        use Picture::{Anchor as A, Bidirectional as B};
        // Decode order I0 P3 B1 B2 P6 B4 B5 I7(open GOP: B before it follows it) B? ...
        let order = [A, A, B, B, A, B, B, A];
        assert_eq!(
            presentation_positions(&order).unwrap(),
            vec![0, 3, 1, 2, 6, 4, 5, 7]
        );
        assert_eq!(presentation_positions(&[A, A, A]).unwrap(), vec![0, 1, 2]);
        assert!(presentation_positions(&[A, Picture::Unknown]).is_none());
    }

    #[test]
    fn picture_types_are_read_from_start_codes() {
        // MPEG-2 picture header: temporal_reference 3, type B (3).
        let mpeg2 = [0xff, 0, 0, 1, 0, 0x00, 0b1101_1000, 0xff];
        assert_eq!(MpegVideo::Mpeg12.picture(&mpeg2), Picture::Bidirectional);
        let mpeg2_i = [0, 0, 1, 0, 0x00, 0b0000_1000];
        assert_eq!(MpegVideo::Mpeg12.picture(&mpeg2_i), Picture::Anchor);
        // MPEG-4 VOP: type bits 10 (B), then 01 (P).
        assert_eq!(
            MpegVideo::Mpeg4.picture(&[0, 0, 1, 0xB6, 0b1000_0000]),
            Picture::Bidirectional
        );
        assert_eq!(
            MpegVideo::Mpeg4.picture(&[0, 0, 1, 0xB0, 1, 0, 0, 1, 0xB6, 0b0100_0000]),
            Picture::Anchor
        );
        assert_eq!(MpegVideo::Mpeg4.picture(&[0, 0, 1]), Picture::Unknown);
    }
}
