//! The waiting side of a submitted command: a one-shot slot that the writer fills once,
//! awaited either by blocking ([`Ticket::wait`]) or as a future, so the crate needs no
//! async runtime and works from blocking code and from tokio alike.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::error::{Error, Result};

struct Slot<T> {
    value: Option<T>,
    /// Set when the completer is gone, with or without a value.
    done: bool,
    waker: Option<Waker>,
}

struct Shared<T> {
    /// Held only to move the value in or out, never across I/O.
    slot: Mutex<Slot<T>>,
    ready: Condvar,
}

/// The writer's half: completes the caller's ticket exactly once. Dropping it without a
/// value completes the ticket with [`Error::Closed`].
pub(crate) struct Completer<T> {
    shared: Arc<Shared<T>>,
}

/// The caller's half: the outcome of a submitted command.
///
/// Wait with [`Ticket::wait`] from blocking code, or `.await` it from async code (it is
/// a `Future`; it needs no particular runtime). Dropping a ticket does not cancel the
/// command: once submitted, it is decided and, if accepted, appended.
#[must_use = "a ticket does nothing unless waited on; the command runs regardless"]
pub struct Ticket<T> {
    shared: Arc<Shared<Result<T>>>,
}

pub(crate) fn ticket<T>() -> (Completer<Result<T>>, Ticket<T>) {
    let shared = Arc::new(Shared {
        slot: Mutex::new(Slot {
            value: None,
            done: false,
            waker: None,
        }),
        ready: Condvar::new(),
    });
    (
        Completer {
            shared: Arc::clone(&shared),
        },
        Ticket { shared },
    )
}

impl<T> Completer<T> {
    pub(crate) fn complete(self, value: T) {
        self.finish(Some(value));
    }

    fn finish(&self, value: Option<T>) {
        let waker = {
            let mut slot = self
                .shared
                .slot
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if slot.done {
                return;
            }
            slot.done = true;
            if value.is_some() {
                slot.value = value;
            }
            slot.waker.take()
        };
        self.shared.ready.notify_all();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Drop for Completer<T> {
    fn drop(&mut self) {
        self.finish(None);
    }
}

impl<T> Ticket<T> {
    /// Blocks until the command is decided and, if accepted, durable as the store's
    /// durability says.
    ///
    /// # Errors
    /// Fail-stop errors from the store; [`Error::Closed`] if the store shut down first.
    pub fn wait(self) -> Result<T> {
        let mut slot = self
            .shared
            .slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while !slot.done {
            slot = self
                .shared
                .ready
                .wait(slot)
                .unwrap_or_else(PoisonError::into_inner);
        }
        slot.value.take().unwrap_or(Err(Error::Closed))
    }

    /// A ticket that is already complete.
    pub(crate) fn ready(value: Result<T>) -> Self {
        let (completer, ticket) = ticket();
        completer.complete(value);
        ticket
    }

    /// A ticket whose value is `f` of this one's.
    pub(crate) fn map<U: Send + 'static>(
        self,
        f: impl FnOnce(T) -> Result<U> + Send + 'static,
    ) -> Mapped<T, U> {
        Mapped {
            inner: self,
            f: Some(Box::new(f)),
        }
    }
}

impl<T> Future for Ticket<T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = self
            .shared
            .slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if slot.done {
            return Poll::Ready(slot.value.take().unwrap_or(Err(Error::Closed)));
        }
        slot.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

type MapFn<T, U> = Box<dyn FnOnce(T) -> Result<U> + Send>;

/// A [`Ticket`] whose outcome is converted to a typed result when it completes. Wait with
/// [`Mapped::wait`] or `.await` it.
#[must_use = "a ticket does nothing unless waited on; the command runs regardless"]
pub struct Mapped<T, U> {
    inner: Ticket<T>,
    f: Option<MapFn<T, U>>,
}

impl<T, U> Mapped<T, U> {
    /// Blocks until the outcome is known; see [`Ticket::wait`].
    ///
    /// # Errors
    /// As [`Ticket::wait`], and any fail-stop error met building the typed result.
    pub fn wait(mut self) -> Result<U> {
        let value = self.inner.wait()?;
        match self.f.take() {
            Some(f) => f(value),
            None => Err(Error::Closed),
        }
    }
}

impl<T, U> Future for Mapped<T, U> {
    type Output = Result<U>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match Pin::new(&mut self.inner).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(v)) => match self.f.take() {
                Some(f) => Poll::Ready(f(v)),
                None => Poll::Ready(Err(Error::Closed)),
            },
        }
    }
}

impl<T, U> Unpin for Mapped<T, U> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_completed_from_another_thread_wakes_a_blocking_waiter() {
        let (c, t) = ticket::<u32>();
        let h = std::thread::spawn(move || c.complete(Ok(7)));
        assert_eq!(t.wait().unwrap(), 7);
        h.join().unwrap();
    }

    #[test]
    fn a_dropped_completer_gives_closed() {
        let (c, t) = ticket::<u32>();
        drop(c);
        assert_eq!(t.wait().unwrap_err().kind(), crate::ErrorKind::Closed);
    }

    #[test]
    fn a_mapped_ticket_converts_its_value() {
        let t = Ticket::ready(Ok(2u32)).map(|v| Ok(v * 10));
        assert_eq!(t.wait().unwrap(), 20);
    }
}
