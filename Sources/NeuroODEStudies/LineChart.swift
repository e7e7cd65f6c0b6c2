import Foundation

/// A two-dimensional chart of labelled series, rendered as a standalone SVG 1.1 document.
///
/// Written for trajectories and reusable for training curves: each series is drawn as a line or
/// as tick marks (a spike raster), either axis may be logarithmic, axes get "nice" ticks (1, 2, 5
/// times a power of ten, or whole decades), and a legend right of the plot, off the data, names
/// the series when there are several. A line may carry a shaded band (a spread over runs); series
/// that belong together share a colour; dashed reference lines mark targets. Non-finite points,
/// and non-positive ones on a logarithmic axis, break the line instead of corrupting the drawing.
public struct LineChart {
    public enum Scale {
        case linear
        case logarithmic
    }

    public enum Mark {
        /// A polyline through the points.
        case line
        /// A short vertical tick at every point, for event rasters.
        case ticks
    }

    public struct Series {
        public var label: String
        public var x: [Double]
        public var y: [Double]
        public var mark = Mark.line
        /// A shaded band around a line (min–max or ±sd over runs), one lower and upper value per
        /// point; nil draws none.
        public var band: (lower: [Double], upper: [Double])?
        /// The series' colour as an index into ``LineChart/palette`` (nil: its position), so that
        /// series that belong together (a fit and its data) share a colour.
        public var colour: Int?

        public init(
            label: String, x: [Double], y: [Double], mark: Mark = .line, band: (lower: [Double], upper: [Double])? = nil,
            colour: Int? = nil
        ) {
            self.label = label
            self.x = x
            self.y = y
            self.mark = mark
            self.band = band
            self.colour = colour
        }
    }

    /// A labelled horizontal line at a fixed value (a target), drawn dashed across the plot.
    public struct ReferenceLine {
        public var label: String
        public var y: Double

        public init(label: String, y: Double) {
            self.label = label
            self.y = y
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var xScale = Scale.linear
    public var yScale = Scale.linear
    /// Fixed axis ranges; `nil` fits the data.
    public var xDomain: ClosedRange<Double>?
    public var yDomain: ClosedRange<Double>?
    public var width = 800.0
    public var height = 480.0
    /// Horizontal reference lines (targets); they also widen the y range to include their values.
    public var referenceLines: [ReferenceLine] = []

    public init(
        title: String, xLabel: String, yLabel: String, series: [Series], xScale: Scale = .linear, yScale: Scale = .linear,
        xDomain: ClosedRange<Double>? = nil, yDomain: ClosedRange<Double>? = nil, width: Double = 800, height: Double = 480,
        referenceLines: [ReferenceLine] = []
    ) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.xScale = xScale
        self.yScale = yScale
        self.xDomain = xDomain
        self.yDomain = yDomain
        self.width = width
        self.height = height
        self.referenceLines = referenceLines
    }

    /// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
    public static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

    private static let margin = (left: 78.0, right: 24.0, top: 44.0, bottom: 58.0)

    /// The colour of the series at `position`.
    private func seriesColour(_ position: Int) -> String {
        Self.palette[(series[position].colour ?? position) % Self.palette.count]
    }

    public func svg() -> String {
        let m = Self.margin
        // The legend stands right of the plot, off the data, when there are series to tell apart.
        let legendRow = 17.0
        let legendWidth = series.count > 1 ? 36 + 7 * Double(series.map(\.label.count).max() ?? 0) : 0
        let right = m.right + (legendWidth > 0 ? legendWidth + 8 : 0)
        let plot = (x: m.left, y: m.top, width: width - m.left - right, height: height - m.top - m.bottom)
        let xAxis = Axis(scale: xScale, values: series.flatMap(\.x), domain: xDomain)
        let bandValues = series.flatMap { ($0.band?.lower ?? []) + ($0.band?.upper ?? []) }
        let yAxis = Axis(scale: yScale, values: series.flatMap(\.y) + bandValues + referenceLines.map(\.y), domain: yDomain)
        func px(_ x: Double) -> Double { plot.x + xAxis.fraction(x) * plot.width }
        func py(_ y: Double) -> Double { plot.y + (1 - yAxis.fraction(y)) * plot.height }

        var s = """
            <?xml version="1.0" encoding="UTF-8" standalone="no"?>
            <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(f(width))" height="\(f(height))" \
            viewBox="0 0 \(f(width)) \(f(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
            <title>\(escape(title))</title>
            <rect x="0" y="0" width="\(f(width))" height="\(f(height))" fill="#ffffff"/>
            <defs><clipPath id="plot-area"><rect x="\(f(plot.x))" y="\(f(plot.y))" width="\(f(plot.width))" \
            height="\(f(plot.height))"/></clipPath></defs>

            """
        // Grid, ticks and tick labels.
        s += "<g stroke=\"#e5e5e5\" stroke-width=\"1\">\n"
        for tick in xAxis.ticks { s += "<line x1=\"\(f(px(tick)))\" y1=\"\(f(plot.y))\" x2=\"\(f(px(tick)))\" y2=\"\(f(plot.y + plot.height))\"/>\n" }
        for tick in yAxis.ticks { s += "<line x1=\"\(f(plot.x))\" y1=\"\(f(py(tick)))\" x2=\"\(f(plot.x + plot.width))\" y2=\"\(f(py(tick)))\"/>\n" }
        s += "</g>\n<g fill=\"#333333\">\n"
        for tick in xAxis.ticks {
            s += "<line x1=\"\(f(px(tick)))\" y1=\"\(f(plot.y + plot.height))\" x2=\"\(f(px(tick)))\" y2=\"\(f(plot.y + plot.height + 5))\" stroke=\"#333333\"/>\n"
            s += "<text x=\"\(f(px(tick)))\" y=\"\(f(plot.y + plot.height + 19))\" text-anchor=\"middle\">\(xAxis.label(tick))</text>\n"
        }
        for tick in yAxis.ticks {
            s += "<line x1=\"\(f(plot.x - 5))\" y1=\"\(f(py(tick)))\" x2=\"\(f(plot.x))\" y2=\"\(f(py(tick)))\" stroke=\"#333333\"/>\n"
            s += "<text x=\"\(f(plot.x - 8))\" y=\"\(f(py(tick) + 4))\" text-anchor=\"end\">\(yAxis.label(tick))</text>\n"
        }
        s += "</g>\n"
        s += "<rect x=\"\(f(plot.x))\" y=\"\(f(plot.y))\" width=\"\(f(plot.width))\" height=\"\(f(plot.height))\" fill=\"none\" stroke=\"#333333\"/>\n"
        // Title and axis labels.
        s += "<text x=\"\(f(width / 2))\" y=\"\(f(m.top / 2 + 6))\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">\(escape(title))</text>\n"
        s += "<text x=\"\(f(plot.x + plot.width / 2))\" y=\"\(f(height - 14))\" text-anchor=\"middle\" font-size=\"13\">\(escape(xLabel))</text>\n"
        s += "<text x=\"16\" y=\"\(f(plot.y + plot.height / 2))\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 16 \(f(plot.y + plot.height / 2)))\">\(escape(yLabel))</text>\n"

        // Data, clipped to the plot area.
        s += "<g clip-path=\"url(#plot-area)\" fill=\"none\" stroke-width=\"1.5\" stroke-linejoin=\"round\">\n"
        // Bands first, so every line stays visible on top of them. A gap (an undrawable point)
        // closes the current polygon and starts a new one.
        for (k, item) in series.enumerated() {
            guard let band = item.band else { continue }
            let colour = seriesColour(k)
            var d = ""
            var run: [(x: Double, low: Double, high: Double)] = []
            func close() {
                if run.count > 1 {
                    d += "M" + run.map { "\(f(px($0.x))) \(f(py($0.high)))" }.joined(separator: "L")
                    d += "L" + run.reversed().map { "\(f(px($0.x))) \(f(py($0.low)))" }.joined(separator: "L") + "Z"
                }
                run = []
            }
            for (x, (low, high)) in zip(item.x, zip(band.lower, band.upper)) {
                if xAxis.isDrawable(x), yAxis.isDrawable(low), yAxis.isDrawable(high) {
                    run.append((x, low, high))
                } else {
                    close()
                }
            }
            close()
            if !d.isEmpty { s += "<path d=\"\(d)\" fill=\"\(colour)\" fill-opacity=\"0.18\" stroke=\"none\"/>\n" }
        }
        for (k, item) in series.enumerated() {
            let colour = seriesColour(k)
            var d = ""
            var penDown = false
            for (x, y) in zip(item.x, item.y) {
                guard xAxis.isDrawable(x), yAxis.isDrawable(y) else {
                    penDown = false
                    continue
                }
                switch item.mark {
                case .line:
                    d += "\(penDown ? "L" : "M")\(f(px(x))) \(f(py(y)))"
                    penDown = true
                case .ticks:
                    d += "M\(f(px(x))) \(f(py(y) - 4))v8"
                }
            }
            if !d.isEmpty {
                s += "<path d=\"\(d)\" stroke=\"\(colour)\"><title>\(escape(item.label))</title></path>\n"
            }
        }
        // Reference lines (targets), dashed, labelled at their right end.
        for line in referenceLines where yAxis.isDrawable(line.y) {
            let y = py(line.y)
            s += "<line x1=\"\(f(plot.x))\" y1=\"\(f(y))\" x2=\"\(f(plot.x + plot.width))\" y2=\"\(f(y))\" stroke=\"#555555\" stroke-width=\"1\" stroke-dasharray=\"6 4\"/>\n"
            s += "<text x=\"\(f(plot.x + plot.width - 4))\" y=\"\(f(y - 4))\" text-anchor=\"end\" fill=\"#555555\" stroke=\"none\">\(escape(line.label))</text>\n"
        }
        s += "</g>\n"

        // Legend, right of the plot, when there is more than one series to tell apart.
        if series.count > 1 {
            let rowHeight = legendRow
            let boxWidth = legendWidth
            let boxHeight = 8 + rowHeight * Double(series.count)
            let x0 = plot.x + plot.width + 8, y0 = plot.y
            s += "<g>\n<rect x=\"\(f(x0))\" y=\"\(f(y0))\" width=\"\(f(boxWidth))\" height=\"\(f(boxHeight))\" fill=\"#ffffff\" fill-opacity=\"0.85\" stroke=\"#999999\"/>\n"
            for (k, item) in series.enumerated() {
                let y = y0 + 4 + rowHeight * (Double(k) + 0.5)
                let colour = seriesColour(k)
                s += "<line x1=\"\(f(x0 + 6))\" y1=\"\(f(y))\" x2=\"\(f(x0 + 26))\" y2=\"\(f(y))\" stroke=\"\(colour)\" stroke-width=\"2\"/>\n"
                s += "<text x=\"\(f(x0 + 31))\" y=\"\(f(y + 4))\">\(escape(item.label))</text>\n"
            }
            s += "</g>\n"
        }
        s += "</svg>\n"
        return s
    }

    /// A coordinate with two decimals: finer than a pixel, and keeps files small.
    private func f(_ value: Double) -> String {
        String(format: "%.2f", value)
    }

    private func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }
}

/// One axis: its range, the mapping to [0, 1] and its ticks.
private struct Axis {
    public let scale: LineChart.Scale
    /// The axis range, in log10 units on a logarithmic axis.
    public let lower: Double
    public let upper: Double
    public let ticks: [Double]
    /// Spacing of the ticks (log10 units on a logarithmic axis), for choosing label precision.
    public let step: Double

    public init(scale: LineChart.Scale, values: [Double], domain: ClosedRange<Double>?) {
        self.scale = scale
        let drawable = values.filter { $0.isFinite && (scale == .linear || $0 > 0) }
        var low: Double, high: Double
        if let domain, scale == .linear || domain.lowerBound > 0 {
            (low, high) = (domain.lowerBound, domain.upperBound)
        } else {
            (low, high) = (drawable.min() ?? 0, drawable.max() ?? 1)
            if drawable.isEmpty, scale == .logarithmic { (low, high) = (1, 10) }
        }
        switch scale {
        case .linear:
            if low == high {
                let pad = low == 0 ? 1 : abs(low) * 0.1
                (low, high) = (low - pad, high + pad)
            }
            let step = Self.niceStep((high - low) / 5)
            self.step = step
            // Snap to ticks only when that adds little: a fixed domain or a trace that ends
            // exactly at a round time should keep its range.
            let snappedLow = (low / step).rounded(.down) * step
            let snappedHigh = (high / step).rounded(.up) * step
            lower = domain == nil ? snappedLow : low
            upper = domain == nil ? snappedHigh : high
            let first = (lower / step).rounded(.up)
            let last = (upper / step).rounded(.down)
            ticks = stride(from: first, through: last, by: 1).map { $0 * step }
        case .logarithmic:
            var lowDecade = log10(low).rounded(.down), highDecade = log10(high).rounded(.up)
            if lowDecade == highDecade { highDecade += 1 }
            if domain != nil { (lowDecade, highDecade) = (log10(low), log10(high)) }
            lower = lowDecade
            upper = highDecade
            let decades = upper - lower
            let every = max(1, (decades / 8).rounded(.up))
            step = every
            ticks = stride(from: (lower / every).rounded(.up) * every, through: upper, by: every).map { pow(10, $0) }
        }
    }

    public func isDrawable(_ value: Double) -> Bool {
        value.isFinite && (scale == .linear || value > 0)
    }

    /// Position of `value` along the axis, 0 at the lower end and 1 at the upper.
    public func fraction(_ value: Double) -> Double {
        let v = scale == .linear ? value : log10(value)
        return (v - lower) / (upper - lower)
    }

    /// Tick text: decimals matched to the tick spacing; powers of ten as 10 with a superscript.
    public func label(_ value: Double) -> String {
        switch scale {
        case .logarithmic:
            let exponent = Int(log10(value).rounded())
            return "10<tspan dy=\"-6\" font-size=\"9\">\(exponent)</tspan>"
        case .linear:
            let magnitude = max(abs(lower), abs(upper))
            if magnitude >= 1e6 || step < 1e-4 {
                return String(format: "%.3g", value)
            }
            let decimals = max(0, Int((-log10(step)).rounded(.up)))
            let text = String(format: "%.\(decimals)f", value)
            // Avoid "-0" for a tick at zero reached from below.
            return Double(text) == 0 ? String(format: "%.\(decimals)f", 0.0) : text
        }
    }

    /// 1, 2 or 5 times a power of ten, the smallest at least `raw`.
    public static func niceStep(_ raw: Double) -> Double {
        let magnitude = pow(10, log10(raw).rounded(.down))
        let residual = raw / magnitude
        let factor: Double = residual <= 1 ? 1 : residual <= 2 ? 2 : residual <= 5 ? 5 : 10
        return factor * magnitude
    }
}
