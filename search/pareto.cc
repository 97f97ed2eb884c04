#include "search/pareto.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace edgeloop::search {
namespace {

double Objective(const Point& p, int i) {
  return std::isnan(p[i]) ? std::numeric_limits<double>::infinity() : p[i];
}

}  // namespace

bool Dominates(const Point& a, const Point& b) {
  const double a0 = Objective(a, 0), a1 = Objective(a, 1);
  const double b0 = Objective(b, 0), b1 = Objective(b, 1);
  return a0 <= b0 && a1 <= b1 && (a0 < b0 || a1 < b1);
}

std::vector<std::vector<int>> NonDominatedFronts(const std::vector<Point>& points) {
  const int n = static_cast<int>(points.size());
  std::vector<std::vector<int>> dominated_by_me(n);
  std::vector<int> dominators(n, 0);
  for (int i = 0; i < n; ++i) {
    for (int j = i + 1; j < n; ++j) {
      if (Dominates(points[i], points[j])) {
        dominated_by_me[i].push_back(j);
        ++dominators[j];
      } else if (Dominates(points[j], points[i])) {
        dominated_by_me[j].push_back(i);
        ++dominators[i];
      }
    }
  }
  std::vector<std::vector<int>> fronts;
  std::vector<int> current;
  for (int i = 0; i < n; ++i) {
    if (dominators[i] == 0) current.push_back(i);
  }
  while (!current.empty()) {
    std::vector<int> next;
    for (int i : current) {
      for (int j : dominated_by_me[i]) {
        if (--dominators[j] == 0) next.push_back(j);
      }
    }
    std::sort(next.begin(), next.end());
    fronts.push_back(std::move(current));
    current = std::move(next);
  }
  return fronts;
}

std::vector<int> ParetoFront(const std::vector<Point>& points) {
  std::vector<int> front;
  const auto fronts = NonDominatedFronts(points);
  if (!fronts.empty()) front = fronts[0];
  std::stable_sort(front.begin(), front.end(),
                   [&](int a, int b) { return Objective(points[a], 0) < Objective(points[b], 0); });
  return front;
}

std::vector<double> CrowdingDistance(const std::vector<Point>& points,
                                     const std::vector<int>& front) {
  const size_t n = front.size();
  std::vector<double> distance(n, 0.0);
  if (n <= 2) {
    std::fill(distance.begin(), distance.end(), std::numeric_limits<double>::infinity());
    return distance;
  }
  std::vector<size_t> order(n);
  for (int objective = 0; objective < 2; ++objective) {
    for (size_t i = 0; i < n; ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return Objective(points[front[a]], objective) < Objective(points[front[b]], objective);
    });
    const double lo = Objective(points[front[order.front()]], objective);
    const double hi = Objective(points[front[order.back()]], objective);
    distance[order.front()] = distance[order.back()] = std::numeric_limits<double>::infinity();
    const double span = hi - lo;
    if (!(span > 0) || !std::isfinite(span)) continue;
    for (size_t k = 1; k + 1 < n; ++k) {
      const double gap = Objective(points[front[order[k + 1]]], objective) -
                         Objective(points[front[order[k - 1]]], objective);
      distance[order[k]] += gap / span;
    }
  }
  return distance;
}

double Hypervolume(const std::vector<Point>& points, const Point& reference) {
  std::vector<Point> inside;
  for (const Point& p : points) {
    if (Objective(p, 0) < reference[0] && Objective(p, 1) < reference[1]) inside.push_back(p);
  }
  std::sort(inside.begin(), inside.end(), [](const Point& a, const Point& b) {
    return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]);
  });
  // Sweep by the first objective; each point adds the strip its second objective improves.
  double volume = 0, best_f1 = reference[1];
  for (const Point& p : inside) {
    if (p[1] >= best_f1) continue;
    volume += (reference[0] - p[0]) * (best_f1 - p[1]);
    best_f1 = p[1];
  }
  return volume;
}

}  // namespace edgeloop::search
