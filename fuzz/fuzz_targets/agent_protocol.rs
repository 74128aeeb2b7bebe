//! Any bytes as the Docker agent's output (which a compromised container
//! could try to forge) and as a request: decoding never panics, never
//! allocates beyond the frame limit, and a decoded request re-encodes to
//! the bytes it came from.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sandboxcore_agent::{FrameDecoder, Request};

fuzz_target!(|data: &[u8]| {
    let mut decoder = FrameDecoder::new();
    // Fed in two pieces, split by the first byte's value.
    let cut = data.first().map_or(0, |&b| b as usize).min(data.len());
    for piece in [&data[..cut], &data[cut..]] {
        decoder.push(piece);
        while let Ok(Some(_)) = decoder.next_frame() {}
    }
    let mut input = data;
    if let Ok(req) = Request::read_from(&mut input) {
        let used = data.len() - input.len();
        assert_eq!(req.encode().unwrap(), &data[..used]);
    }
});
