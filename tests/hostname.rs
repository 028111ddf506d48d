//! The UTS names against the kernel: every set happens in a child process
//! in a fresh UTS namespace, so the machine's names never change.

mod util;

use kernfd::hostname::{self, BUF_LEN, MAX_LEN};
use kernfd::{Errno, Error, Rule};
use rustix::thread::UnshareFlags;

fn proc_value(name: &str) -> Vec<u8> {
    let mut v = std::fs::read(format!("/proc/sys/kernel/{name}")).unwrap();
    assert_eq!(v.pop(), Some(b'\n'));
    v
}

#[test]
fn get_matches_proc() {
    let mut buf = [0_u8; BUF_LEN];
    assert_eq!(hostname::gethostname(&mut buf), proc_value("hostname"));
    assert_eq!(hostname::getdomainname(&mut buf), proc_value("domainname"));
    assert_eq!(hostname::hostname().as_bytes(), proc_value("hostname"));
    assert_eq!(hostname::domainname().as_bytes(), proc_value("domainname"));
}

#[test]
fn set_in_uts_namespace() {
    let before = hostname::hostname();
    let Some(ns) = util::sandbox_ns(UnshareFlags::NEWUTS) else {
        skip!("this user cannot create a user namespace");
    };
    if util::in_child_ns("set_in_uts_namespace", ns) {
        // The child's names never reached the machine.
        assert_eq!(hostname::hostname(), before);
        return;
    }
    // 1:1 calls.
    hostname::sethostname(b"kernfd-one").unwrap();
    assert_eq!(proc_value("hostname"), b"kernfd-one");
    let mut buf = [0_u8; BUF_LEN];
    assert_eq!(hostname::gethostname(&mut buf), b"kernfd-one");
    hostname::setdomainname(b"kernfd.dom").unwrap();
    assert_eq!(proc_value("domainname"), b"kernfd.dom");
    assert_eq!(hostname::getdomainname(&mut buf), b"kernfd.dom");
    // Exactly 64 bytes fits, through both layers; non-UTF-8 too.
    let max = [b'x'; MAX_LEN];
    hostname::set_hostname(max).unwrap();
    assert_eq!(hostname::hostname().as_bytes(), max);
    hostname::set_domainname(b"\xffdom").unwrap();
    assert_eq!(hostname::domainname().as_bytes(), b"\xffdom");
    assert_eq!(hostname::domainname().to_str(), None);
    // An empty name is allowed.
    hostname::set_hostname("").unwrap();
    assert_eq!(hostname::hostname().as_bytes(), b"");
}

#[test]
fn over_64_bytes_is_einval_from_the_kernel() {
    let Some(ns) = util::sandbox_ns(UnshareFlags::NEWUTS) else {
        skip!("this user cannot create a user namespace");
    };
    if util::in_child_ns("over_64_bytes_is_einval_from_the_kernel", ns) {
        return;
    }
    hostname::sethostname(b"kept").unwrap();
    let long = [b'y'; MAX_LEN + 1];
    // The 1:1 calls pass it on: the kernel says EINVAL.
    assert_eq!(hostname::sethostname(&long), Err(Errno::INVAL));
    assert_eq!(hostname::setdomainname(&long), Err(Errno::INVAL));
    // The checked calls never get that far.
    assert_eq!(
        hostname::set_hostname(long),
        Err(Error::Rule(Rule::HostnameTooLong))
    );
    assert_eq!(
        hostname::set_domainname(long),
        Err(Error::Rule(Rule::DomainnameTooLong))
    );
    assert_eq!(hostname::hostname().as_bytes(), b"kept");
}

#[test]
fn eperm_without_cap_sys_admin() {
    if util::in_child("eperm_without_cap_sys_admin") {
        return;
    }
    util::drop_to_nobody();
    let name = hostname::hostname();
    assert_eq!(hostname::sethostname(b"nope"), Err(Errno::PERM));
    assert_eq!(hostname::setdomainname(b"nope"), Err(Errno::PERM));
    assert_eq!(
        hostname::set_hostname("nope"),
        Err(Error::Os {
            call: "sethostname",
            errno: Errno::PERM
        })
    );
    assert_eq!(
        hostname::set_domainname("nope"),
        Err(Error::Os {
            call: "setdomainname",
            errno: Errno::PERM
        })
    );
    assert_eq!(hostname::hostname(), name);
}
