import AgnostRuntime
import NIOCore
import Testing

struct RequestHeaderDeadlineTests {
    private let opened = NIODeadline.uptimeNanoseconds(1_000_000_000)
    private let limit = TimeAmount.seconds(10)

    @Test func aConnectionThatNeverSendsAHeadIsClosedAtTheLimit() {
        var state = RequestHeaderDeadline(limit: limit, openedAt: opened)
        #expect(state.connectionOpened() == .schedule(at: opened + limit))
        #expect(state.connectionOpened() == .none)
        // Half a header: bytes, but no head; the clock keeps running from the connection's opening.
        #expect(state.bytesArrived(at: opened + .seconds(1)) == .none)
        #expect(state.timerExpired(at: opened + limit) == .close)
    }

    @Test func aHeadStopsTheClockAndASlowBodyIsNotCut() {
        var state = RequestHeaderDeadline(limit: limit, openedAt: opened)
        _ = state.connectionOpened()
        state.headArrived()
        #expect(state.bytesArrived(at: opened + .seconds(5)) == .none)
        #expect(state.timerExpired(at: opened + limit) == .none)
        #expect(state.phase == .inRequest)
        // The body ends long after the limit; only then does the connection fall idle.
        #expect(state.bytesArrived(at: opened + .seconds(30)) == .none)
        state.bodyEnded()
        #expect(state.phase == .inRequest)
        state.responseEnded()
        #expect(state.phase == .idle)
    }

    @Test func anIdleConnectionRunsNoClockUntilItsNextRequestStarts() {
        var state = RequestHeaderDeadline(limit: limit, openedAt: opened)
        _ = state.connectionOpened()
        state.headArrived()
        state.bodyEnded()
        #expect(state.timerExpired(at: opened + limit) == .none)
        state.responseEnded()
        // Idle for 30 s, three times the header limit: the next request starts a fresh clock.
        let next = opened + .seconds(30)
        #expect(state.bytesArrived(at: next) == .schedule(at: next + limit))
        #expect(state.phase == .awaitingHead(since: next))
        #expect(state.timerExpired(at: next + .seconds(9)) == .reschedule(at: next + limit))
        #expect(state.timerExpired(at: next + limit) == .close)
    }

    @Test func aBusyKeepAliveConnectionReusesOneTimer() {
        var state = RequestHeaderDeadline(limit: limit, openedAt: opened)
        #expect(state.connectionOpened() == .schedule(at: opened + limit))
        var scheduled = 1
        for second in 1...25 {
            let now = opened + .seconds(Int64(second))
            state.headArrived()
            state.bodyEnded()
            state.responseEnded()
            if case .schedule = state.bytesArrived(at: now) { scheduled += 1 }
            if second % 10 == 0 {
                // The one timer fires, finds the clock started a moment ago and waits for it.
                #expect(state.timerExpired(at: now) == .reschedule(at: now + limit))
            }
        }
        #expect(scheduled == 1)
    }

    @Test func theResponseMayEndBeforeTheBody() {
        var state = RequestHeaderDeadline(limit: limit, openedAt: opened)
        _ = state.connectionOpened()
        state.headArrived()
        // A 413 answered before the body is read: the rest of the body is not a new request.
        state.responseEnded()
        #expect(state.bytesArrived(at: opened + .seconds(2)) == .none)
        state.bodyEnded()
        #expect(state.phase == .idle)
    }

    @Test func pipelinedRequestsKeepTheConnectionInRequest() {
        var state = RequestHeaderDeadline(limit: limit, openedAt: opened)
        _ = state.connectionOpened()
        state.headArrived()
        state.bodyEnded()
        state.headArrived()
        state.responseEnded()
        #expect(state.phase == .inRequest)
        state.bodyEnded()
        state.responseEnded()
        #expect(state.phase == .idle)
    }
}
