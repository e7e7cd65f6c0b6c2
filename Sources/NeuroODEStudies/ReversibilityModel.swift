import Foundation
import Gradients
import NeuroODE

/// The models `reversibility` runs, each at a fixed, documented operating point.
public enum ReversibilityModel: String, CaseIterable {
    case morrisLecar = "morris-lecar"
    case hodgkinHuxley = "hodgkin-huxley"
    case rober
    case rotation

    public var summary: String {
        switch self {
        case .morrisLecar: "hopf preset, I = 100, from the turn-off state (-41.84, 0.5282); T = 300 ms, dopri5"
        case .hodgkinHuxley: "I = 10, from rest; T = 100 ms, dopri5"
        case .rober: "k = (0.04, 3e7, 1e4) from (1, 0, 0); T = 1e5, log-spaced times, cvode-bdf"
        case .rotation: "y1' = y2, y2' = -y1 from (1, 0), exactly reversible (the control); T = 100, dopri5"
        }
    }

    public var defaultEndTime: Double {
        switch self {
        case .morrisLecar: 300
        case .hodgkinHuxley: 100
        case .rober: 1e5
        case .rotation: 100
        }
    }

    public var defaultIntegrator: IntegratorKind { self == .rober ? .cvodeBDF : .dopri5 }
    /// ROBER's y₂ stays below 4e-5: its absolute tolerance must be far smaller.
    public var defaultAbsoluteTolerance: Double { self == .rober ? 1e-14 : 1e-10 }
    /// 1 mV for the neurons; for ROBER and the rotation, 1e-3 of the state's size.
    public var defaultThreshold: Double { self == .morrisLecar || self == .hodgkinHuxley ? 1 : 1e-3 }
    public var logarithmicTime: Bool { self == .rober }
    public var timeUnit: String { self == .morrisLecar || self == .hodgkinHuxley ? " (ms)" : "" }

    public var stateNames: [String] {
        switch self {
        case .morrisLecar: MorrisLecar().stateNames
        case .hodgkinHuxley: HodgkinHuxley().stateNames
        case .rober: Rober().stateNames
        case .rotation: Rotation().stateNames
        }
    }

    /// `count` times strictly inside (0, end): evenly spaced, or for ROBER log-spaced from end·10⁻¹⁰
    /// (its chemistry runs on every scale from 10⁻⁵ on).
    public func samplingTimes(end: Double, count: Int) -> [Double] {
        if logarithmicTime {
            return (0..<count).map { end * pow(10, -10 + 10 * Double($0) / Double(count)) }
        }
        return (1...count).map { end * Double($0) / Double(count + 1) }
    }

    public func check<Method: Integrator>(end: Double, times: [Double], integrator: Method) throws -> ReversibilityCheck.Outcome {
        switch self {
        case .morrisLecar:
            return try ReversibilityCheck.run(
                ODEProblem(system: MorrisLecar(preset: .hopf, current: 100), initialState: [-41.84, 0.5282], timeSpan: (0, end)),
                integrator: integrator, times: times)
        case .hodgkinHuxley:
            return try ReversibilityCheck.run(ODEProblem(system: HodgkinHuxley(current: 10), timeSpan: (0, end)), integrator: integrator, times: times)
        case .rober:
            return try ReversibilityCheck.run(ODEProblem(system: Rober(), timeSpan: (0, end)), integrator: integrator, times: times)
        case .rotation:
            return try ReversibilityCheck.run(ODEProblem(system: Rotation(), timeSpan: (0, end)), integrator: integrator, times: times)
        }
    }
}
