use crate::classify::{classify, classify_argv, PathEffect, PathEffectKind};

/// `(path, effect, certain)` of a line's predicted effects.
fn fx(line: &str) -> Vec<(String, &'static str, bool)> {
    effects_of(classify(line).effects)
}

fn effects_of(e: Vec<PathEffect>) -> Vec<(String, &'static str, bool)> {
    e.into_iter()
        .map(|e| (e.path, e.effect.as_str(), e.certain))
        .collect()
}

fn e(path: &str, effect: &'static str, certain: bool) -> (String, &'static str, bool) {
    (path.to_string(), effect, certain)
}

#[test]
fn redirections_write_their_targets_but_not_devices_or_descriptors() {
    assert_eq!(fx("echo x > out.txt"), [e("out.txt", "write", true)]);
    assert_eq!(fx("echo x >> log"), [e("log", "write", true)]);
    assert_eq!(fx("make &> build.log"), [e("build.log", "write", true)]);
    assert_eq!(fx("echo x >| f"), [e("f", "write", true)]);
    assert_eq!(fx("cmd 2> err.txt"), [e("err.txt", "write", true)]);
    assert_eq!(fx("cmd >&all.txt"), [e("all.txt", "write", true)]);
    assert_eq!(fx("cmd 3<> rw"), [e("rw", "write", true)]);
    assert!(fx("cmd > /dev/null 2>&1").is_empty());
    assert!(fx("cmd 2>/dev/stderr >&2 < in.txt").is_empty());
    assert_eq!(fx("echo > \"$OUT\""), [e("$OUT", "write", false)]);
    assert_eq!(fx("echo > ~/notes"), [e("~/notes", "write", true)]);
    assert_eq!(fx("echo > $HOME/notes"), [e("~/notes", "write", true)]);
    assert_eq!(fx("echo > ~bob/notes"), [e("~bob/notes", "write", false)]);
    // The classifier never invents effects for programs it does not know.
    assert!(fx("frobnicate --all out.txt").is_empty());
    assert!(fx("cat a.txt | grep x").is_empty());
}

#[test]
fn rm_family() {
    assert_eq!(
        fx("rm -rf build dist"),
        [e("build", "delete", true), e("dist", "delete", true)]
    );
    // `--` ends the options: `-f` is a file.
    assert_eq!(fx("rm -- -f"), [e("-f", "delete", true)]);
    assert_eq!(fx("rm ./-f -r"), [e("./-f", "delete", true)]);
    // GNU permutes: options after operands.
    assert_eq!(fx("rm x -v"), [e("x", "delete", true)]);
    assert_eq!(fx("rm --recur --forc x"), [e("x", "delete", true)]);
    assert!(fx("rm --help").is_empty());
    assert_eq!(fx("rm *.o"), [e("*.o", "delete", false)]);
    assert_eq!(fx("unlink a"), [e("a", "delete", true)]);
    assert_eq!(
        fx("rmdir -p a/b/c"),
        [
            e("a/b/c", "delete", true),
            e("a", "delete", false),
            e("a/b", "delete", false)
        ]
    );
    assert_eq!(fx("shred f"), [e("f", "write", true)]);
    assert_eq!(fx("shred -n 3 -u f"), [e("f", "delete", true)]);
    assert_eq!(fx("shred --remove=wipe f"), [e("f", "delete", true)]);
    // An unknown option: rm will refuse, nothing is certain.
    assert_eq!(fx("rm --frobnicate x"), [e("x", "delete", false)]);
}

#[test]
fn mv_cp_ln_install_targets() {
    assert_eq!(
        fx("mv a b"),
        [e("a", "delete", true), e("b", "write", true)]
    );
    assert_eq!(
        fx("mv a b dir"),
        [
            e("a", "delete", true),
            e("b", "delete", true),
            e("dir/a", "write", true),
            e("dir/b", "write", true)
        ]
    );
    assert_eq!(
        fx("mv src/a.txt dir/"),
        [
            e("src/a.txt", "delete", true),
            e("dir/a.txt", "write", true)
        ]
    );
    assert_eq!(
        fx("mv -t dir a b"),
        [
            e("a", "delete", true),
            e("b", "delete", true),
            e("dir/a", "write", true),
            e("dir/b", "write", true)
        ]
    );
    assert_eq!(
        fx("mv --target-directory=d x"),
        [e("x", "delete", true), e("d/x", "write", true)]
    );
    assert_eq!(
        fx("mv --target d x"),
        [e("x", "delete", true), e("d/x", "write", true)]
    );
    assert_eq!(
        fx("mv -T a b"),
        [e("a", "delete", true), e("b", "write", true)]
    );
    assert_eq!(fx("cp -r src dst"), [e("dst", "write", true)]);
    assert_eq!(
        fx("cp -t out a b/c"),
        [e("out/a", "write", true), e("out/c", "write", true)]
    );
    assert_eq!(
        fx("cp --parents a/b/c out"),
        [
            e("out/a", "create", false),
            e("out/a/b", "create", false),
            e("out/a/b/c", "write", true)
        ]
    );
    // A suffix alone asks for a backup (GNU).
    assert_eq!(
        fx("mv -S .prev a b"),
        [
            e("a", "delete", true),
            e("b", "write", true),
            e("b.prev", "create", false)
        ]
    );
    assert_eq!(
        fx("cp -b a b"),
        [e("b", "write", true), e("b~", "create", false)]
    );
    assert_eq!(
        fx("cp -S .old --backup=simple a b"),
        [e("b", "write", true), e("b.old", "create", false)]
    );
    // `-S` takes a value: `x` is not a source (and asks for a backup).
    assert_eq!(
        fx("cp -Sx a b"),
        [e("b", "write", true), e("bx", "create", false)]
    );
    assert!(fx("cp onlyone").is_empty());
    // The link is made, not the target.
    assert_eq!(fx("ln -s /etc/passwd link"), [e("link", "create", true)]);
    assert_eq!(fx("ln -s ../lib/x.so"), [e("x.so", "create", true)]);
    assert_eq!(
        fx("ln -sf a b c dir"),
        [
            e("dir/a", "create", true),
            e("dir/b", "create", true),
            e("dir/c", "create", true)
        ]
    );
    assert_eq!(
        fx("install -m 755 tool /usr/local/bin/"),
        [e("/usr/local/bin/tool", "write", true)]
    );
    assert_eq!(
        fx("install -d a/b"),
        [e("a/b", "create", true), e("a", "create", false)]
    );
    assert_eq!(
        fx("install -D x out/sub/x"),
        [
            e("out/sub/x", "write", true),
            e("out", "create", false),
            e("out/sub", "create", false)
        ]
    );
    assert_eq!(fx("install -m644 -t dest a"), [e("dest/a", "write", true)]);
}

#[test]
fn rsync_dest_and_delete() {
    assert_eq!(fx("rsync -av src/ backup/"), [e("backup/", "write", true)]);
    assert_eq!(
        fx("rsync -a --delete src/ mirror"),
        [e("mirror", "write", true), e("mirror", "delete", false)]
    );
    assert!(fx("rsync -avn src/ dst").is_empty());
    assert!(fx("rsync -a src host:dst").is_empty());
    assert_eq!(
        fx("rsync -e 'ssh -p 2' host:src ./local"),
        [e("./local", "write", true)]
    );
    assert_eq!(
        fx("rsync -a --remove-source-files in/ out/"),
        [e("out/", "write", true), e("in/", "delete", false)]
    );
}

#[test]
fn tee_touch_mkdir_truncate_dd() {
    assert_eq!(
        fx("echo x | tee a b"),
        [e("a", "write", true), e("b", "write", true)]
    );
    assert_eq!(fx("echo x | tee -a log"), [e("log", "write", true)]);
    assert!(fx("echo x | tee /dev/stderr").is_empty());
    assert_eq!(fx("echo x | tee -"), [e("-", "write", true)]);
    // A file named `-` is a file for rm and the shell.
    assert_eq!(
        fx("rm -- - > -"),
        [e("-", "write", true), e("-", "delete", true)]
    );
    assert!(fx("echo x | tee >(wc -c)").is_empty());
    assert_eq!(
        fx("touch a b"),
        [e("a", "create", true), e("b", "create", true)]
    );
    assert_eq!(fx("touch -c a"), [e("a", "write", false)]);
    // `-r` and `-d` take values, which are not touched.
    assert_eq!(fx("touch -r ref -d yesterday f"), [e("f", "create", true)]);
    assert_eq!(fx("mkdir d"), [e("d", "create", true)]);
    assert_eq!(fx("mkdir -m 700 d"), [e("d", "create", true)]);
    assert_eq!(
        fx("mkdir -p a/b/c"),
        [
            e("a", "create", false),
            e("a/b", "create", false),
            e("a/b/c", "create", true)
        ]
    );
    assert_eq!(fx("truncate -s 0 log"), [e("log", "write", true)]);
    assert_eq!(fx("truncate -c -s0 log"), [e("log", "write", false)]);
    assert_eq!(
        fx("dd if=/dev/zero of=disk.img bs=1M count=1"),
        [e("disk.img", "write", true)]
    );
    assert!(fx("dd if=x of=/dev/null").is_empty());
}

#[test]
fn chmod_chown_modes() {
    assert_eq!(
        fx("chmod 644 a b"),
        [e("a", "mode", true), e("b", "mode", true)]
    );
    assert_eq!(fx("chmod -R u+w dir"), [e("dir", "mode", true)]);
    // `-w` is chmod's mode, not an option.
    assert_eq!(fx("chmod -w f"), [e("f", "mode", true)]);
    assert_eq!(fx("chmod -R -x,u+X d"), [e("d", "mode", true)]);
    assert_eq!(fx("chmod --reference=ref f"), [e("f", "mode", true)]);
    assert_eq!(fx("chown -R user:group dir"), [e("dir", "mode", true)]);
    assert_eq!(fx("chgrp staff f"), [e("f", "mode", true)]);
    assert_eq!(fx("chown --from=a:b c f"), [e("f", "mode", true)]);
}

#[test]
fn sed_and_perl_in_place() {
    assert!(fx("sed s/a/b/ f").is_empty());
    assert_eq!(
        fx("sed -i s/a/b/ f g"),
        [e("f", "write", true), e("g", "write", true)]
    );
    // `-ie` is a suffix `e`: the script is the first operand.
    assert_eq!(
        fx("sed -ie s/a/b/ f"),
        [e("f", "write", true), e("fe", "write", true)]
    );
    assert_eq!(
        fx("sed -i.bak -e s/a/b/ f"),
        [e("f", "write", true), e("f.bak", "write", true)]
    );
    assert_eq!(fx("sed -n -i -e p -e q f"), [e("f", "write", true)]);
    assert_eq!(
        fx("sed --in-place=.orig s/a/b/ d/f"),
        [e("d/f", "write", true), e("d/f.orig", "write", true)]
    );
    // GNU abbreviations of --in-place.
    assert_eq!(fx("sed --in s/a/b/ f"), [e("f", "write", true)]);
    assert_eq!(fx("sed --i s/a/b/ f"), [e("f", "write", true)]);
    assert_eq!(
        fx("sed -i'bak/*' s/a/b/ d/f"),
        [e("d/f", "write", true), e("bak/f", "write", true)]
    );
    assert_eq!(fx("sed -f script.sed -i f"), [e("f", "write", true)]);
    assert_eq!(fx("perl -pi -e 's/a/b/' f"), [e("f", "write", true)]);
    assert_eq!(
        fx("perl -i.bak -pe 's/a/b/' f"),
        [e("f", "write", true), e("f.bak", "write", true)]
    );
    // `-pie`: `-i` takes `e` as its suffix; the code is the first operand.
    assert_eq!(
        fx("perl -pie 's/a/b/' f"),
        [e("f", "write", true), e("fe", "write", true)]
    );
    assert!(fx("perl -pe 's/a/b/' f").is_empty());
}

#[test]
fn find_deletes_and_exec_under_its_roots() {
    assert_eq!(
        fx("find . -name '*.pyc' -delete"),
        [e(".", "delete", false)]
    );
    assert_eq!(
        fx("find -L build tmp -type f -delete"),
        [e("build", "delete", false), e("tmp", "delete", false)]
    );
    assert_eq!(
        fx(r"find src -name '*.o' -exec rm -f {} \;"),
        [e("src", "delete", false)]
    );
    assert_eq!(fx("find src -execdir rm {} +"), [e("src", "delete", false)]);
    assert_eq!(
        fx(r"find d -type f -exec chmod 600 {} \;"),
        [e("d", "mode", false)]
    );
    assert!(fx("find . -name x -print").is_empty());
    assert_eq!(
        fx("find / -fprint list.txt"),
        [e("list.txt", "write", true)]
    );
    // A program only known at run time, on paths under the root.
    assert_eq!(fx(r"find d -exec $CMD {} \;"), [e("d", "write", false)]);
}

#[test]
fn xargs_appends_unknown_paths() {
    assert_eq!(fx("ls | xargs rm -f"), [e("{input}", "delete", false)]);
    assert_eq!(fx("ls | xargs -0 -n1 rm"), [e("{input}", "delete", false)]);
    assert_eq!(
        fx("ls | xargs mv -t dir"),
        [
            e("{input}", "delete", false),
            e("dir/{input}", "write", false)
        ]
    );
    assert_eq!(fx("ls | xargs -n1 sh"), [e("{input}", "write", false)]);
    assert!(fx("ls | xargs grep x").is_empty());
}

#[test]
fn wrappers_nested_scripts_and_conditions() {
    assert_eq!(fx("sudo rm -rf /opt/x"), [e("/opt/x", "delete", true)]);
    assert_eq!(fx("env A=1 nice -n5 time rm f"), [e("f", "delete", true)]);
    assert_eq!(
        fx("timeout 5 bash -c 'touch a && rm b'"),
        [e("a", "create", true), e("b", "delete", true)]
    );
    assert_eq!(fx("(cd sub && rm x)"), [e("sub/x", "delete", false)]);
    assert_eq!(
        fx("cd /etc; echo x > passwd"),
        [e("/etc/passwd", "write", false)]
    );
    assert_eq!(fx("env -C out touch x"), [e("out/x", "create", true)]);
    // A `cd` in a substitution does not move what follows.
    assert_eq!(fx("d=$(cd /etc && pwd); rm x"), [e("x", "delete", true)]);
    assert_eq!(fx("test -d d || mkdir d"), [e("d", "create", false)]);
    assert_eq!(fx("if true; then rm a; fi"), [e("a", "delete", false)]);
    assert_eq!(
        fx("for f in a b; do touch $f; done"),
        [e("$f", "create", false)]
    );
    assert_eq!(fx("touch a &"), [e("a", "create", false)]);
    assert_eq!(fx("rm a; rm a"), [e("a", "delete", true)]);
    // A function named like the program is not the program.
    assert!(fx("rm() { :; }; rm x").is_empty());
    let c = classify_argv(&["rm", "-rf", "$HOME"]);
    assert_eq!(effects_of(c.effects), [e("$HOME", "delete", true)]);
}

#[test]
fn git_working_tree_changes() {
    assert_eq!(fx("git clean -fdx"), [e(".", "delete", false)]);
    assert!(fx("git clean -n").is_empty());
    assert!(fx("git clean -fdn").is_empty());
    assert_eq!(fx("git clean -f -- build"), [e("build", "delete", false)]);
    assert_eq!(
        fx("git checkout -- a.txt b"),
        [e("a.txt", "write", true), e("b", "write", true)]
    );
    assert_eq!(fx("git checkout main"), [e(".", "write", false)]);
    assert_eq!(fx("git restore src/x.rs"), [e("src/x.rs", "write", true)]);
    assert_eq!(fx("git restore -s HEAD~1 f"), [e("f", "write", true)]);
    assert!(fx("git restore --staged f").is_empty());
    assert_eq!(fx("git rm -r old"), [e("old", "delete", true)]);
    assert!(fx("git rm --cached f").is_empty());
    assert_eq!(fx("git -C repo rm f"), [e("repo/f", "delete", true)]);
    assert_eq!(fx("git -c a=b checkout -- f"), [e("f", "write", true)]);
    assert_eq!(
        fx("git mv a b"),
        [e("a", "delete", true), e("b", "write", true)]
    );
    assert_eq!(fx("git reset --hard"), [e(".", "write", false)]);
    assert!(fx("git reset HEAD~").is_empty());
    assert!(fx("git status").is_empty());
}

#[test]
fn archives() {
    assert_eq!(fx("tar xzf a.tgz"), [e(".", "create", false)]);
    assert_eq!(fx("tar -xf a.tar -C out"), [e("out", "create", false)]);
    assert_eq!(
        fx("tar --extract --file=a.tar --directory=o"),
        [e("o", "create", false)]
    );
    assert_eq!(fx("tar -C out -xvf a.tar"), [e("out", "create", false)]);
    assert!(fx("tar tf a.tar").is_empty());
    assert!(fx("tar -xOf a.tar").is_empty());
    assert_eq!(fx("tar czf out.tgz src"), [e("out.tgz", "write", true)]);
    assert_eq!(fx("tar -c -f out.tar src"), [e("out.tar", "write", true)]);
    assert_eq!(fx("unzip a.zip"), [e(".", "create", false)]);
    assert_eq!(fx("unzip -o a.zip -d out"), [e("out", "create", false)]);
    assert!(fx("unzip -l a.zip").is_empty());
}

#[test]
fn roots_of_uncertain_paths() {
    let root = |p: &str, certain: bool| {
        PathEffect {
            path: p.into(),
            effect: PathEffectKind::Delete,
            certain,
        }
        .root()
        .map(str::to_string)
    };
    assert_eq!(root("src/*.rs", false).as_deref(), Some("src"));
    assert_eq!(root("*.o", false).as_deref(), Some("."));
    assert_eq!(root("/etc/*.conf", false).as_deref(), Some("/etc"));
    assert_eq!(root("/*", false).as_deref(), Some("/"));
    assert_eq!(root("~/x/*", false).as_deref(), Some("~/x"));
    assert_eq!(root("build", false).as_deref(), Some("build"));
    assert_eq!(root("$D/x", false), None);
    assert_eq!(root("a/$D", false), None);
    assert_eq!(root("a/*/../..", false), None);
    assert_eq!(root("~bob/x", false), None);
    assert_eq!(root("~bob/x", true), None);
    assert_eq!(root("{input}", false), None);
    assert_eq!(root("a$b", true).as_deref(), Some("a$b"));
}

#[test]
fn effects_are_serialised_snake_case_and_read_back() {
    let c = classify("rm -rf build");
    let j = serde_json::to_value(&c).unwrap();
    assert_eq!(
        j["effects"],
        serde_json::json!([{"path": "build", "effect": "delete", "certain": true}])
    );
    let back: crate::Classification = serde_json::from_value(j).unwrap();
    assert_eq!(back, c);
    let j = serde_json::to_value(classify("ls")).unwrap();
    assert_eq!(j["effects"], serde_json::json!([]));
}

#[test]
fn many_effects_are_each_listed_once_in_order_past_the_scanned_few() {
    // Past 16 distinct effects they are found through a hash index: the
    // same answer as the scan gives.
    let names: Vec<String> = (0..40).map(|i| format!("f{i}")).collect();
    let line = format!(
        "rm {} f3 f30; rm -f f0 f39; echo x > f5 || touch f7",
        names.join(" ")
    );
    let mut expected: Vec<_> = names.iter().map(|n| e(n, "delete", true)).collect();
    // `> f5` writes a file also deleted; `|| touch` may not run.
    expected.push(e("f5", "write", true));
    expected.push(e("f7", "create", false));
    assert_eq!(fx(&line), expected);
}
