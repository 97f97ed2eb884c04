// Pareto-front arithmetic for two minimised objectives, shared by the search strategies,
// their logs and the benchmarks.
//
// Points are (f0, f1) pairs, both minimised (in the search: val MSE and latency in ms).
// NaN objectives are treated as +infinity (a point not yet scored dominates nothing).
#ifndef EDGELOOP_SEARCH_PARETO_H_
#define EDGELOOP_SEARCH_PARETO_H_

#include <array>
#include <vector>

namespace edgeloop::search {

using Point = std::array<double, 2>;

// True when `a` is no worse than `b` in both objectives and better in one.
bool Dominates(const Point& a, const Point& b);

// Fast non-dominated sorting (Deb et al., NSGA-II): fronts of indices into `points`, the
// first front holding the non-dominated points. Within a front, indices keep their order.
std::vector<std::vector<int>> NonDominatedFronts(const std::vector<Point>& points);

// Indices of the non-dominated points (the first front), sorted by the first objective.
// Exact duplicates are all kept.
std::vector<int> ParetoFront(const std::vector<Point>& points);

// NSGA-II crowding distance of each member of `front` (indices into `points`), in the
// same order; boundary points get +infinity.
std::vector<double> CrowdingDistance(const std::vector<Point>& points,
                                     const std::vector<int>& front);

// Area dominated by `points` and bounded by `reference` (a point worse than all the points
// that should count); points not strictly better than the reference in both objectives
// add nothing.
double Hypervolume(const std::vector<Point>& points, const Point& reference);

}  // namespace edgeloop::search

#endif  // EDGELOOP_SEARCH_PARETO_H_
