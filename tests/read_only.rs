//! `read_only` judges options the way the programs parse them: GNU long
//! options abbreviated, output files given as operands, wrappers that
//! write files of their own.

use sandboxcore::classify;

#[test]
fn writing_options_however_spelled() {
    for line in [
        "sed --in-place s/a/b/ f",
        "sed --in-pl s/a/b/ f",
        "sed --i s/a/b/ f",
        "sort --output=out f",
        "sort --out=out f",
        "sort -ooutput f",
        "uniq in out",
        "uniq -c in out",
        "xxd in out",
        "strace -o out ls",
        "strace -fo out ls",
        "ltrace --output=out ls",
        "flock lockfile ls",
    ] {
        assert!(!classify(line).read_only, "{line} writes a file");
    }
    for line in [
        "sed -n s/a/b/p f",
        "sed -- s/a/b/ f",
        "sort -r f",
        "uniq in",
        "uniq -c in",
        "xxd in",
        "strace -f ls",
        "flock 9 ls",
    ] {
        assert!(classify(line).read_only, "{line} writes nothing");
    }
}
