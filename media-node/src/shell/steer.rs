//! Every RTP port of the node received on one socket (issue #17): a BPF
//! `sk_lookup` program, attached to the network namespace, hands each UDP
//! datagram for a port the node has bound on its IPv4 address to one socket
//! of the node's, where the io_uring path reads them all with one multishot
//! receive instead of one per port; the datagram's destination port
//! (`IP_ORIGDSTADDR`) tells its call, as the socket it arrived on did.
//!
//! Nothing else changes: each call keeps its own port in its SDP, its socket
//! bound there (what the call sends leaves from it, and no one else may bind
//! it), and a datagram for a port the node has not bound, or for another
//! address, is looked up by the kernel as before. The program looks the port up
//! in a `SOCKHASH` of the ports bound ([`Steering::steer`] at bind,
//! [`Steering::unsteer`] at release); several nodes in one namespace each
//! attach their own. The link is the attachment: it ends when the node's
//! descriptors close, with the node.
//!
//! Loading and attaching a program needs `CAP_BPF` and `CAP_NET_ADMIN` (root
//! here); where they are refused, [`Steering::open`] says why and the node
//! reads each port's socket as before.
//!
//! The program, in the kernel's instruction set (ten lines of C with
//! `bpf_helpers.h`, written out here so that the build needs no BPF compiler):
//!
//! ```c
//! if (ctx->protocol != IPPROTO_UDP || ctx->local_ip4 != NODE_IP) return SK_PASS;
//! __u32 port = ctx->local_port;
//! struct bpf_sock *sk = bpf_map_lookup_elem(&ports, &port);
//! if (!sk) return SK_PASS;
//! bpf_sk_assign(ctx, sk, 0);
//! bpf_sk_release(sk);
//! return SK_PASS;
//! ```

#![allow(unsafe_code)]

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// The `bpf()` commands, map and program types used (`linux/bpf.h`).
const BPF_MAP_CREATE: libc::c_int = 0;
const BPF_MAP_UPDATE_ELEM: libc::c_int = 2;
const BPF_MAP_DELETE_ELEM: libc::c_int = 3;
const BPF_PROG_LOAD: libc::c_int = 5;
const BPF_LINK_CREATE: libc::c_int = 28;
const BPF_MAP_TYPE_SOCKHASH: u32 = 18;
const BPF_PROG_TYPE_SK_LOOKUP: u32 = 30;
const BPF_SK_LOOKUP: u32 = 36;
/// `struct bpf_sk_lookup`'s fields read (4 bytes each).
const CTX_PROTOCOL: i16 = 12;
const CTX_LOCAL_IP4: i16 = 40;
const CTX_LOCAL_PORT: i16 = 60;
/// Helpers called.
const FN_MAP_LOOKUP_ELEM: i32 = 1;
const FN_SK_RELEASE: i32 = 86;
const FN_SK_ASSIGN: i32 = 124;
const SK_PASS: i32 = 1;
/// Ports the map holds at most: every UDP port.
const MAX_PORTS: u32 = 65_536;
/// The steered socket's receive buffer: 4,000 callers' 200,000 datagrams a
/// second take about 2.6 MB (with the kernel's overhead) per 10 ms the loop
/// does not read; this is 60 ms of them.
const RECEIVE_BUFFER: usize = 16 << 20;

/// `union bpf_attr`, as the commands used read it: 144 bytes, zero where unused.
#[repr(C, align(8))]
struct Attr([u8; 144]);

impl Attr {
    fn new() -> Self {
        Self([0; 144])
    }

    fn u32(mut self, offset: usize, value: u32) -> Self {
        self.0[offset..offset + 4].copy_from_slice(&value.to_ne_bytes());
        self
    }

    fn u64(mut self, offset: usize, value: u64) -> Self {
        self.0[offset..offset + 8].copy_from_slice(&value.to_ne_bytes());
        self
    }
}

/// `bpf(command, attr)`: its result, or the error.
fn bpf(command: libc::c_int, attr: &mut Attr) -> io::Result<libc::c_long> {
    // SAFETY: `attr` is a `union bpf_attr` of the size passed, laid out for
    // `command`; the pointers in it (instructions, license, log, key, value)
    // point at memory that outlives the call.
    let result = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            command,
            attr.0.as_mut_ptr(),
            attr.0.len() as libc::c_uint,
        )
    };
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

/// `bpf()`'s new descriptor.
fn bpf_fd(command: libc::c_int, attr: &mut Attr) -> io::Result<OwnedFd> {
    let fd = bpf(command, attr)?;
    let fd = i32::try_from(fd).map_err(|_| io::Error::other("bpf: no descriptor"))?;
    // SAFETY: the kernel returned a new descriptor, owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// One `struct bpf_insn`.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
struct Insn {
    code: u8,
    /// `dst_reg` in the low nibble, `src_reg` in the high one.
    regs: u8,
    off: i16,
    imm: i32,
}

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | dst,
        off,
        imm,
    }
}

// Instruction classes and fields (`linux/bpf_common.h`, `linux/bpf.h`).
const LDX_MEM_W: u8 = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const STX_MEM_W: u8 = 0x63; // BPF_STX | BPF_MEM | BPF_W
const LD_IMM_DW: u8 = 0x18; // BPF_LD | BPF_IMM | BPF_DW
const MOV64_X: u8 = 0xbf; // BPF_ALU64 | BPF_MOV | BPF_X
const MOV64_K: u8 = 0xb7; // BPF_ALU64 | BPF_MOV | BPF_K
const ADD64_K: u8 = 0x07; // BPF_ALU64 | BPF_ADD | BPF_K
const JNE32_K: u8 = 0x56; // BPF_JMP32 | BPF_JNE | BPF_K
const JEQ_K: u8 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const CALL: u8 = 0x85; // BPF_JMP | BPF_CALL
const EXIT: u8 = 0x95; // BPF_JMP | BPF_EXIT
const PSEUDO_MAP_FD: u8 = 1;

/// The program of the [module documentation](self), for the node's address
/// `ip` and the map `map`.
fn program(ip: Ipv4Addr, map: i32) -> Vec<Insn> {
    let (ctx, arg1, arg2, arg3, ret, sk, frame) = (6, 1, 2, 3, 0, 7, 10);
    // `local_ip4` is in network byte order, as the address's bytes in memory.
    let ip = i32::from_ne_bytes(ip.octets());
    let mut code = vec![
        insn(MOV64_X, ctx, arg1, 0, 0),
        insn(LDX_MEM_W, arg2, ctx, CTX_PROTOCOL, 0),
        insn(JNE32_K, arg2, 0, 0, libc::IPPROTO_UDP), // to pass, set below
        insn(LDX_MEM_W, arg2, ctx, CTX_LOCAL_IP4, 0),
        insn(JNE32_K, arg2, 0, 0, ip), // to pass
        insn(LDX_MEM_W, arg2, ctx, CTX_LOCAL_PORT, 0),
        insn(STX_MEM_W, frame, arg2, -4, 0),
        insn(LD_IMM_DW, arg1, PSEUDO_MAP_FD, 0, map),
        insn(0, 0, 0, 0, 0),
        insn(MOV64_X, arg2, frame, 0, 0),
        insn(ADD64_K, arg2, 0, 0, -4),
        insn(CALL, 0, 0, 0, FN_MAP_LOOKUP_ELEM),
        insn(JEQ_K, ret, 0, 0, 0), // to pass
        insn(MOV64_X, sk, ret, 0, 0),
        insn(MOV64_X, arg1, ctx, 0, 0),
        insn(MOV64_X, arg2, sk, 0, 0),
        insn(MOV64_K, arg3, 0, 0, 0),
        insn(CALL, 0, 0, 0, FN_SK_ASSIGN),
        insn(MOV64_X, arg1, sk, 0, 0),
        insn(CALL, 0, 0, 0, FN_SK_RELEASE),
    ];
    let pass = code.len();
    for jump in [2, 4, 12] {
        code[jump].off = i16::try_from(pass - jump - 1).expect("a short program");
    }
    code.push(insn(MOV64_K, ret, 0, 0, SK_PASS));
    code.push(insn(EXIT, 0, 0, 0, 0));
    code
}

/// Loads `code` as an `sk_lookup` program; refused, loads it again with the
/// verifier's log to say why.
fn load(code: &[Insn]) -> io::Result<OwnedFd> {
    let license = c"Dual MIT/GPL";
    let attr = || {
        Attr::new()
            .u32(0, BPF_PROG_TYPE_SK_LOOKUP)
            .u32(4, code.len() as u32)
            .u64(8, code.as_ptr() as u64)
            .u64(16, license.as_ptr() as u64)
            .u32(68, BPF_SK_LOOKUP)
    };
    let error = match bpf_fd(BPF_PROG_LOAD, &mut attr()) {
        Ok(program) => return Ok(program),
        Err(error) => error,
    };
    let mut log = vec![0u8; 64 * 1024];
    let logged = bpf_fd(
        BPF_PROG_LOAD,
        &mut attr()
            .u32(24, 1)
            .u32(28, log.len() as u32)
            .u64(32, log.as_mut_ptr() as u64),
    );
    let log = String::from_utf8_lossy(&log);
    let log = log.trim_end_matches('\0').trim();
    match logged {
        Ok(program) => Ok(program),
        Err(_) if !log.is_empty() => Err(io::Error::new(
            error.kind(),
            format!("{error}: the verifier says: {log}"),
        )),
        Err(_) => Err(error),
    }
}

/// The node's ports steered to its receive socket. See the [module
/// documentation](self).
#[derive(Debug)]
pub(super) struct Steering {
    /// The ports bound: port (host order, 4 bytes) → the receive socket.
    ports: OwnedFd,
    /// The attachment to the namespace (the program and the map live while it does).
    _link: OwnedFd,
    socket: UdpSocket,
}

impl Steering {
    /// Loads and attaches the program for `ip`, and binds the socket the
    /// node's ports are steered to (on `ip`, a port of the kernel's choosing,
    /// with the destination of each datagram asked for); or says why not.
    pub(super) fn open(ip: Ipv4Addr) -> io::Result<Self> {
        if ip.is_unspecified() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "the RTP address is 0.0.0.0: no one address to steer",
            ));
        }
        let ports = bpf_fd(
            BPF_MAP_CREATE,
            &mut Attr::new()
                .u32(0, BPF_MAP_TYPE_SOCKHASH)
                .u32(4, 4)
                .u32(8, 8)
                .u32(12, MAX_PORTS),
        )?;
        let program = load(&program(ip, ports.as_raw_fd()))?;
        let namespace = std::fs::File::open("/proc/self/ns/net")?;
        let link = bpf_fd(
            BPF_LINK_CREATE,
            &mut Attr::new()
                .u32(0, program.as_raw_fd() as u32)
                .u32(4, namespace.as_raw_fd() as u32)
                .u32(8, BPF_SK_LOOKUP),
        )?;
        let socket = UdpSocket::bind(SocketAddrV4::new(ip, 0))?;
        socket.set_nonblocking(true)?;
        nix::sys::socket::setsockopt(&socket, nix::sys::socket::sockopt::Ipv4OrigDstAddr, &true)?;
        // Every call's datagrams queue here while the loop mixes: room for
        // [`RECEIVE_BUFFER`] bytes, past `net.core.rmem_max` (the capability
        // the steering needs allows it).
        nix::sys::socket::setsockopt(
            &socket,
            nix::sys::socket::sockopt::RcvBufForce,
            &RECEIVE_BUFFER,
        )?;
        Ok(Self {
            ports,
            _link: link,
            socket,
        })
    }

    /// The socket every port steered arrives on.
    pub(super) fn socket(&self) -> &UdpSocket {
        &self.socket
    }

    /// Steers `port`'s datagrams to the socket from now on.
    pub(super) fn steer(&self, port: u16) -> io::Result<()> {
        let key = u32::from(port);
        let value = self.socket.as_raw_fd() as u64;
        bpf(
            BPF_MAP_UPDATE_ELEM,
            &mut Attr::new()
                .u32(0, self.ports.as_raw_fd() as u32)
                .u64(8, (&raw const key) as u64)
                .u64(16, (&raw const value) as u64),
        )
        .map(drop)
    }

    /// `port`'s datagrams go to whatever socket is bound there again.
    pub(super) fn unsteer(&self, port: u16) {
        let key = u32::from(port);
        if let Err(error) = bpf(
            BPF_MAP_DELETE_ELEM,
            &mut Attr::new()
                .u32(0, self.ports.as_raw_fd() as u32)
                .u64(8, (&raw const key) as u64),
        ) {
            tracing::warn!(port, %error, "RTP steering: port not removed");
        }
    }
}

/// The destination port of a datagram read on the steered socket, from its
/// control messages (`IP_ORIGDSTADDR`), or `None` when they do not say.
pub(super) fn destination_port(control: &[u8]) -> Option<u16> {
    let header = std::mem::size_of::<libc::cmsghdr>();
    let align = std::mem::size_of::<usize>();
    let mut at = 0;
    while control.len() >= at + header {
        let field = |offset: usize, len: usize| control.get(at + offset..at + offset + len);
        let len = usize::from_ne_bytes(field(0, align)?.try_into().ok()?);
        let level = i32::from_ne_bytes(field(align, 4)?.try_into().ok()?);
        let kind = i32::from_ne_bytes(field(align + 4, 4)?.try_into().ok()?);
        if len < header || len > control.len() - at {
            return None;
        }
        if level == libc::SOL_IP && kind == libc::IP_ORIGDSTADDR {
            // A `sockaddr_in`: family (2 bytes), then the port in network order.
            let port = field(header + 2, 2)?;
            return Some(u16::from_be_bytes([port[0], port[1]]));
        }
        at += len.next_multiple_of(align);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Opens steering on a loopback address of the test's own, or `None`
    /// (printed) where the kernel refuses it to this process (no `CAP_BPF`,
    /// no `sk_lookup`).
    fn open(ip: Ipv4Addr) -> Option<Steering> {
        match Steering::open(ip) {
            Ok(steering) => Some(steering),
            Err(error) => {
                eprintln!("RTP steering refused here ({error}): not tested");
                None
            }
        }
    }

    /// The next datagram on `socket` and the destination port its control
    /// messages give.
    fn receive(socket: &UdpSocket) -> Option<(Vec<u8>, Option<u16>)> {
        use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};
        socket.set_nonblocking(false).ok()?;
        socket
            .set_read_timeout(Some(Duration::from_millis(500)))
            .ok()?;
        let mut buffer = [0u8; 64];
        let mut control = nix::cmsg_space!(libc::sockaddr_in);
        let mut iov = [std::io::IoSliceMut::new(&mut buffer)];
        let message = recvmsg::<()>(
            socket.as_raw_fd(),
            &mut iov,
            Some(&mut control),
            MsgFlags::empty(),
        )
        .ok()?;
        let bytes = message.bytes;
        let port = message.cmsgs().ok()?.find_map(|cmsg| match cmsg {
            ControlMessageOwned::Ipv4OrigDstAddr(addr) => Some(u16::from_be(addr.sin_port)),
            _ => None,
        });
        Some((buffer[..bytes].to_vec(), port))
    }

    #[test]
    fn a_steered_port_s_datagrams_reach_the_one_socket_with_their_port_and_others_do_not() {
        let ip = Ipv4Addr::new(127, 0, 0, 77);
        let Some(steering) = open(ip) else {
            return;
        };
        let call = UdpSocket::bind(SocketAddrV4::new(ip, 0)).unwrap();
        let call_port = call.local_addr().unwrap().port();
        let unsteered = UdpSocket::bind(SocketAddrV4::new(ip, 0)).unwrap();
        let unsteered_port = unsteered.local_addr().unwrap().port();
        steering.steer(call_port).unwrap();
        let trunk = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        trunk.send_to(b"to the call", (ip, call_port)).unwrap();
        assert_eq!(
            receive(steering.socket()),
            Some((b"to the call".to_vec(), Some(call_port)))
        );
        call.set_nonblocking(true).unwrap();
        assert!(
            call.recv(&mut [0; 64]).is_err(),
            "the call's own socket reads nothing"
        );
        // A port not steered is the kernel's as before.
        trunk.send_to(b"elsewhere", (ip, unsteered_port)).unwrap();
        unsteered
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut buffer = [0u8; 64];
        assert_eq!(unsteered.recv(&mut buffer).unwrap(), 9);
        // Unsteered again: the call's socket has its datagrams back.
        steering.unsteer(call_port);
        trunk.send_to(b"back", (ip, call_port)).unwrap();
        call.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        call.set_nonblocking(false).unwrap();
        assert_eq!(call.recv(&mut buffer).unwrap(), 4);
    }

    #[test]
    fn another_address_s_ports_are_never_steered() {
        let ip = Ipv4Addr::new(127, 0, 0, 78);
        let Some(steering) = open(ip) else {
            return;
        };
        let other = UdpSocket::bind((Ipv4Addr::new(127, 0, 0, 79), 0)).unwrap();
        let port = other.local_addr().unwrap().port();
        // The same port number steered for this node's address.
        steering.steer(port).unwrap();
        let trunk = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        trunk
            .send_to(b"other node", other.local_addr().unwrap())
            .unwrap();
        other
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut buffer = [0u8; 64];
        assert_eq!(other.recv(&mut buffer).unwrap(), 10);
    }

    #[test]
    fn the_destination_port_is_read_from_the_control_messages_and_anything_else_is_none() {
        let header = std::mem::size_of::<libc::cmsghdr>();
        let mut control = Vec::new();
        // A control message of another kind first, then IP_ORIGDSTADDR.
        let mut message = |level: i32, kind: i32, data: &[u8]| {
            let len = header + data.len();
            control.extend_from_slice(&len.to_ne_bytes());
            control.extend_from_slice(&level.to_ne_bytes());
            control.extend_from_slice(&kind.to_ne_bytes());
            control.extend_from_slice(data);
            control.resize(control.len().next_multiple_of(8), 0);
        };
        message(libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, &[0; 16]);
        let mut addr = [0u8; 16];
        addr[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
        addr[2..4].copy_from_slice(&20_002u16.to_be_bytes());
        message(libc::SOL_IP, libc::IP_ORIGDSTADDR, &addr);
        assert_eq!(destination_port(&control), Some(20_002));
        assert_eq!(destination_port(&control[..24]), None);
        assert_eq!(destination_port(&[]), None);
        assert_eq!(destination_port(&[0xff; 40]), None);
    }
}
