import Foundation
import Testing
@testable import NeuroODE

/// y' = −y, but the right-hand side throws once t passes `failureTime`.
struct ThrowingModel: ODESystem {
    struct Failure: Error, CustomStringConvertible {
        var description: String { "deliberate failure" }
    }
    var failureTime = 0.3
    var name: String { "thrower" }
    var dimension: Int { 1 }
    var parameterNames: [String] { [] }
    var defaultParameters: [Double] { [] }
    var defaultInitialState: [Double] { [1] }
    func evaluateRightHandSide(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into dydt: UnsafeMutableBufferPointer<Double>
    ) throws {
        if t > failureTime { throw Failure() }
        dydt[0] = -y[0]
    }
}

/// y' = −y, with a NaN derivative once t passes `nanTime`, or a NaN event function.
struct NaNModel: EventSystem {
    var nanTime = 0.5
    var nanInEvent = false
    var name: String { "nan-model" }
    var dimension: Int { 1 }
    var parameterNames: [String] { [] }
    var defaultParameters: [Double] { [] }
    var defaultInitialState: [Double] { [1] }
    var eventCount: Int { 1 }
    func evaluateRightHandSide(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into dydt: UnsafeMutableBufferPointer<Double>
    ) {
        dydt[0] = !nanInEvent && t > nanTime ? .nan : -y[0]
    }
    func evaluateEventFunctions(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into values: UnsafeMutableBufferPointer<Double>
    ) {
        values[0] = nanInEvent && t > nanTime ? .nan : y[0] - 2
    }
    func applyEvent(_ index: Int, at t: Double, state: UnsafeMutableBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>) {}
}

/// y' = y², y(0) = 1: blows up at t = 1.
struct BlowUp: ODESystem {
    var name: String { "blow-up" }
    var dimension: Int { 1 }
    var parameterNames: [String] { [] }
    var defaultParameters: [Double] { [] }
    var defaultInitialState: [Double] { [1] }
    func evaluateRightHandSide(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into dydt: UnsafeMutableBufferPointer<Double>
    ) {
        dydt[0] = y[0] * y[0]
    }
}

/// Every failure path gives its typed error and frees the CVODE session. Each test binds its own
/// session ledger, so the leak check is immune to other suites solving in parallel.
@Suite struct CVODEFailureTests {
    /// Runs `body` with a fresh ledger and checks that every session it created was freed.
    func withLeakCheck(expectSessions: Bool = true, _ body: () throws -> Void) rethrows {
        let ledger = CVODESession.Ledger()
        try CVODESession.$ledger.withValue(ledger) { try body() }
        #expect(ledger.live.load(ordering: .relaxed) == 0, "sessions still alive")
        let created = ledger.created.load(ordering: .relaxed)
        #expect(expectSessions ? created > 0 : created == 0, "\(created) sessions created")
    }

    func solve<S: ODESystem>(_ solver: CVODE, _ system: S, to end: Double) throws(ODEError) -> Solution {
        try solver.solve(try ODEProblem(system: system, timeSpan: (0, end)))
    }

    @Test func stepBudgetExhaustedCarriesTheTimeReached() {
        withLeakCheck {
            do throws(ODEError) {
                _ = try solve(CVODE(maxSteps: 50), Rober(), to: 4e10)
                Issue.record("expected the step budget to run out")
            } catch let .stepBudgetExhausted(time, maxSteps) {
                #expect(maxSteps == 50)
                #expect(time > 0 && time < 4e10, "time \(time)")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test func invalidSettingsAreRejectedBeforeAnyCMemory() throws {
        let problem = try ODEProblem(system: Rober(), timeSpan: (0, 1))
        let cases: [(CVODE, ODEError)] = [
            (CVODE(relativeTolerance: -1e-6), .invalidTolerance(name: "relative tolerance", value: -1e-6)),
            (CVODE(relativeTolerance: 0), .invalidTolerance(name: "relative tolerance", value: 0)),
            (CVODE(relativeTolerance: 1e-15), .invalidTolerance(name: "relative tolerance", value: 1e-15)),
            (CVODE(absoluteTolerance: -1), .invalidTolerance(name: "absolute tolerance", value: -1)),
            (CVODE(absoluteTolerance: 0), .invalidTolerance(name: "absolute tolerance", value: 0)),
            (CVODE(absoluteTolerances: [1e-8, 1e-8]),
             .dimensionMismatch(what: "absolute tolerance vector", expected: 3, actual: 2)),
            (CVODE(absoluteTolerances: [1e-8, -1e-14, 1e-6]), .invalidTolerance(name: "absolute tolerance [1]", value: -1e-14)),
            (CVODE(maxSteps: 0), .invalidTolerance(name: "maximum number of steps", value: 0)),
            (CVODE(maxStepSize: -1), .invalidTolerance(name: "maximum step size", value: -1)),
        ]
        withLeakCheck(expectSessions: false) {
            for (solver, expected) in cases {
                #expect(throws: expected) { _ = try solver.solve(problem) }
            }
        }
        // NaN compares unequal to itself, so match the case and name only.
        withLeakCheck(expectSessions: false) {
            do throws(ODEError) {
                _ = try CVODE(relativeTolerance: .nan).solve(problem)
                Issue.record("NaN rtol accepted")
            } catch let .invalidTolerance(name, value) {
                #expect(name == "relative tolerance" && value.isNaN)
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test func throwingRightHandSideIsReportedWithModelAndTime() {
        withLeakCheck {
            do throws(ODEError) {
                _ = try solve(CVODE(), ThrowingModel(), to: 1)
                Issue.record("expected the model's error")
            } catch let .rightHandSideFailed(model, time, reason) {
                #expect(model == "thrower")
                #expect(time > 0.3 && time < 1, "time \(time)")
                #expect(reason == "deliberate failure")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test(arguments: [CVODE.Method.bdf, .adams])
    func nonFiniteDerivativeIsAnErrorWithItsTime(method: CVODE.Method) {
        withLeakCheck {
            do throws(ODEError) {
                let solution = try solve(CVODE(method: method), NaNModel(), to: 1)
                Issue.record("a NaN right-hand side gave a solution ending at \(solution.finalTime)")
            } catch let .nonFiniteState(time, step, _) {
                #expect(time > 0.5 && time < 0.51, "time \(time)")
                #expect(step > 1)
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test func nonFiniteEventFunctionIsAnError() {
        withLeakCheck {
            do throws(ODEError) {
                _ = try solve(CVODE(), NaNModel(nanInEvent: true), to: 1)
                Issue.record("expected an error")
            } catch let .nonFiniteEventFunction(time) {
                #expect(time > 0.5 && time <= 1, "time \(time)")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test func finiteTimeBlowUpIsAnErrorNearTheSingularity() {
        withLeakCheck {
            do throws(ODEError) {
                let solution = try solve(CVODE(), BlowUp(), to: 2)
                Issue.record("blow-up solved to \(solution.finalTime)")
            } catch {
                let time: Double? = switch error {
                case let .solverFailure(_, _, time, _), let .stepBudgetExhausted(time, _),
                     let .nonFiniteState(time, _, _), let .stepSizeTooSmall(time, _): time
                default: nil
                }
                #expect(time.map { $0 > 0.99 && $0 <= 1 } == true, "\(error)")
            }
        }
    }

    /// The counters count: one live session while it exists, none once it is released, and the
    /// process-wide count moves with it.
    @Test func sessionCountersTrackLifetime() throws {
        let ledger = CVODESession.Ledger()
        try CVODESession.$ledger.withValue(ledger) {
            var session: CVODESession? = try CVODESession(
                callbacks: CVODECallbacks(system: Rober(), parameters: Rober().defaultParameters),
                initialState: [1, 0, 0], startTime: 0, endTime: 1,
                configuration: .init(method: .bdf, relativeTolerance: 1e-6, absoluteTolerance: 1e-10,
                                     absoluteTolerances: nil, maxSteps: 10, maxStepSize: nil))
            #expect(ledger.live.load(ordering: .relaxed) == 1)
            #expect(CVODESession.liveCount.load(ordering: .relaxed) >= 1)
            #expect(session?.state.count == 3)
            session = nil
            #expect(ledger.live.load(ordering: .relaxed) == 0)
        }
        #expect(ledger.created.load(ordering: .relaxed) == 1)
    }

    /// Settings that slip past validation (here by building the session directly) fail inside
    /// set-up; what was allocated up to that point must still be freed.
    @Test func failedSetUpFreesWhatItAllocated() {
        withLeakCheck {
            do throws(ODEError) {
                let callbacks = CVODECallbacks(system: ExponentialDecay(), parameters: [-1])
                _ = try CVODESession(
                    callbacks: callbacks, initialState: [1], startTime: 0, endTime: 1,
                    configuration: .init(method: .bdf, relativeTolerance: -1, absoluteTolerance: 1e-8,
                                         absoluteTolerances: nil, maxSteps: 10, maxStepSize: nil))
                Issue.record("a negative rtol reached CVODE and was accepted")
            } catch let .solverFailure(_, flagName, time, message) {
                #expect(flagName == "CV_ILL_INPUT" && time == 0)
                #expect(message.contains("reltol < 0"), "message: \(message)")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test func solverFailureCarriesCVODEsFlagNameAndMessage() {
        // A span shorter than CVODE can resolve at this magnitude: CV_TOO_CLOSE from CVode itself.
        withLeakCheck {
            do throws(ODEError) {
                _ = try CVODE().solve(try ODEProblem(system: ExponentialDecay(), timeSpan: (1e10, 1e10 + 1e-6)))
                Issue.record("expected CV_TOO_CLOSE")
            } catch let .solverFailure(flag, flagName, time, message) {
                #expect(flag == -27 && flagName == "CV_TOO_CLOSE")
                #expect(time == 1e10)
                #expect(message.contains("tout too close to t0"), "message: \(message)")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }
}
