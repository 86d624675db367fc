"""Track A — small-claim authorisation (SPEC §2, R-A-1..R-A-6)."""

from __future__ import annotations

from typing import ClassVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.models import Track
    from domain.tracks import small_claim_estimate_ok
    from workflows.messages import (
        TRACK_WORKFLOW_TYPES,
        CarAtShop,
        IssueAssessment,
        SceneEstimate,
        Stage,
        TrackInput,
        TrackView,
        UploadPhotos,
    )
    from workflows.track_base import StepRefused, TrackWorkflow


@workflow.defn(name=TRACK_WORKFLOW_TYPES[Track.AUTHORISATION])
class SmallClaimAuthorisationWorkflow(TrackWorkflow):
    track = Track.AUTHORISATION
    opening_stage = Stage.AWAITING_SCENE_ESTIMATE
    stage_rules: ClassVar[dict[Stage, str]] = {
        **TrackWorkflow.stage_rules,
        Stage.AWAITING_SCENE_ESTIMATE: "R-A-2",
        Stage.AWAITING_CAR_AT_SHOP: "R-A-3",
        Stage.AWAITING_PHOTOS: "R-A-3",
        Stage.AWAITING_DOCUMENTS: "R-A-4/R-A-5",
    }

    def __init__(self) -> None:
        super().__init__()
        self._estimate: SceneEstimate | None = None
        self._shop: CarAtShop | None = None
        self._photos: tuple[str, ...] = ()

    @workflow.run
    async def run(self, input: TrackInput) -> TrackView:
        return await self._run(input)

    async def _service(self) -> bool:
        deadlines = self.rules.deadlines
        await self._wait(Stage.AWAITING_SCENE_ESTIMATE, lambda: self._estimate is not None, self.now + deadlines.scene_estimate)
        assert self._estimate is not None
        ok, reason = small_claim_estimate_ok(
            self.track, self.report.accident_kind, self._estimate.own_loss, None, self.rules.thresholds
        )
        if not ok:
            # R-A-2: over the limit the customer waits for an on-site survey: an ordinary claim
            await self._leave_program(Stage.TRANSFERRED, reason)
            return False
        self._note("customer_may_leave_scene", detail=reason)
        await self._wait(Stage.AWAITING_CAR_AT_SHOP, lambda: self._shop is not None, self.now + deadlines.car_at_shop)
        await self._wait(Stage.AWAITING_PHOTOS, lambda: bool(self._photos), self.now + deadlines.photos_upload)
        return True

    @workflow.update(name="record_scene_estimate")
    async def record_scene_estimate(self, step: SceneEstimate) -> TrackView:
        self._estimate = step
        self._note("scene_estimate_recorded", step.by, f"{step.own_loss} CNY")
        return await self._answer()

    @record_scene_estimate.validator
    def _check_scene_estimate(self, step: SceneEstimate) -> None:
        self._require_stage(Stage.AWAITING_SCENE_ESTIMATE)
        if not step.photos_taken:
            raise StepRefused("the customer must photograph the scene before leaving it (R-A-2)")

    @workflow.update(name="car_at_shop")
    async def car_at_shop(self, step: CarAtShop) -> TrackView:
        self._shop = step
        self._note("car_at_shop", step.by, f"shop {step.shop_code}")
        return await self._answer()

    @car_at_shop.validator
    def _check_car_at_shop(self, step: CarAtShop) -> None:
        self._require_stage(Stage.AWAITING_CAR_AT_SHOP)

    @workflow.update(name="upload_photos")
    async def upload_photos(self, step: UploadPhotos) -> TrackView:
        await self._require_files(step.sha256)
        self._photos = step.sha256
        self._note("photos_uploaded", step.by, f"{len(step.sha256)} photo(s)")
        return await self._answer()

    @upload_photos.validator
    def _check_upload_photos(self, step: UploadPhotos) -> None:
        self._require_stage(Stage.AWAITING_PHOTOS)

    def _check_assessment(self, step: IssueAssessment) -> None:
        if not self._photos:
            raise StepRefused("the assessor assesses from the customer's photos: upload them first (R-A-4)")
