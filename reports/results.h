// The reports read the core result model (core/model.h) and its verdict
// rules (core/verdict.h); these names are theirs, brought into reports::.
#pragma once

#include "core/model.h"
#include "core/verdict.h"

namespace streamcheck::reports {

using core::CaseInfo;
using core::CaseResult;
using core::Evidence;
using core::Exchange;
using core::ExitCodeFor;
using core::Level;
using core::Outcome;
using core::ParseLevel;
using core::ParseOutcome;
using core::RunReport;
using core::TargetSummary;
using core::TimelinePoint;
using core::ToString;

}  // namespace streamcheck::reports
